import { listLinks, type LinkInfo } from './links.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  BpfObject,
  type BpfMap,
  type RecordBatch,
  type TcAttachKind,
  type TracingLink,
} from '@wirescope/libbpf';
import { TcAttachments, type AttachmentStatus } from './attachments.js';
import {
  coverage,
  datapathStats,
  flowCounters,
  peerTraffic,
  type CoverageCounter,
  type DatapathStats,
  type PeerTraffic,
} from './counters.js';
import { run } from '../exec.js';
import {
  endpointValue,
  ipcacheKey,
  ipcacheValue,
  nodeIdOf,
  u32Key,
  type EndpointEntry,
  type FlowCounter,
  type IpcacheEntry,
} from './maps.js';
import { localNetns, localNetnsMap, netnsProblems, nodeNetnsPath, type LocalNetns } from './netns.js';
import { bpfOutputDir } from '@wirescope/bpf';
import type { EndpointPolicyProgram } from '../policy/engine.js';
import { writePolicyMaps, type PolicyMapCounts } from '../policy/maps.js';

/** Where `make` in bpf/ puts the objects: the @wirescope/bpf package's output directory. */
export const DEFAULT_BPF_DIR = bpfOutputDir;

const RING_BYTES = 1 << 21;
/** enum ws_config_slot in bpf/lib/maps.h */
const STRICT_SLOT = 0;
const NETNS_SCOPE_SLOT = 1;

export interface DatapathOptions {
  nodeName: string;
  underlayIP: string;
  wgInterface: string;
  wgPort: number;
  strict: boolean;
  aggregationSeconds: number;
  /** RingBufferOptions.coalesceMs of the flow-event reader (0: deliver every wake-up at once). */
  eventBatchWaitMs?: number;
  bpfDir?: string;
  /** Network namespace (name under /run/netns) to manage; default: the agent's own. */
  netns?: string;
  /**
   * How the tc programs attach (--tc-attach): `auto` (default) TCX links where the kernel has them
   * (Linux 6.6+) and cls_bpf filters elsewhere; `tcx` or `filter` to insist.
   */
  tcAttach?: 'auto' | TcAttachKind;
  /**
   * Where TCX links are pinned, so that a killed agent's links keep running until the next one
   * takes them over: default one directory per network namespace under /sys/fs/bpf/wirescope
   * (none without bpffs); '' for no pins.
   */
  pinDir?: string;
  /** The bpffs the agent pins in (--bpf-root): default /sys/fs/bpf. */
  bpfRoot?: string;
  log: (message: string) => void;
  /** One call per ring-buffer wake-up of any of the datapath objects. */
  onBatch: (batch: RecordBatch) => void;
}

export interface LocalEndpointAttachment {
  interface: string;
  ip: string;
  identity: number;
  /** The pod's network namespace file (EndpointRecord.netns): kernel drops inside it are this node's. */
  netns?: string | undefined;
}

export interface DatapathState {
  ipcache: IpcacheEntry[];
  endpoints: LocalEndpointAttachment[];
  /** Node ids (nodeIdOf) this node's WireGuard device has a peer for. */
  peerNodeIds: number[];
  /** The local endpoints' compiled network policy (ws_policy, ws_policy_ep of the lxc object). */
  policy?: EndpointPolicyProgram[];
}

export type { AttachmentStatus };

interface ObjectSpec {
  name: 'lxc' | 'crypto' | 'underlay' | 'kfree_skb';
  file: string;
}

const OBJECTS: ObjectSpec[] = [
  { name: 'lxc', file: 'lxc.bpf.o' },
  { name: 'crypto', file: 'crypto.bpf.o' },
  { name: 'underlay', file: 'underlay.bpf.o' },
  { name: 'kfree_skb', file: 'kfree_skb.bpf.o' },
];

export class DatapathError extends Error {
  override name = 'DatapathError';
}

/**
 * Loads the eBPF encryption datapath (bpf/{lxc,crypto,underlay,kfree_skb}.bpf.o), attaches it to
 * the WireGuard device, the underlay interface and every local pod veth, and keeps the maps
 * (ipcache, endpoints, peers) equal to what the cluster store says. Each object has its own
 * copy of the maps; sync() writes the same content to each.
 */
export class BpfDatapath {
  private objects = new Map<ObjectSpec['name'], BpfObject>();
  private tracingLinks: TracingLink[] = [];
  private tc: TcAttachments | undefined;
  private wgIfindex = 0;
  private netnsState: LocalNetns | undefined;
  private netnsReport = '';
  /** What the last sync wrote into the policy maps. */
  policyCounts: PolicyMapCounts | undefined;

  constructor(private readonly options: DatapathOptions) {
    this.strictMode = options.strict;
  }

  private strictMode: boolean;

  get strict(): boolean {
    return this.strictMode;
  }

  /** Strict encryption at run time: every object's ws_config, read per packet by from_endpoint. */
  setStrict(enabled: boolean): void {
    this.strictMode = enabled;
    const value = Buffer.alloc(4);
    value.writeUInt32LE(enabled ? 1 : 0);
    for (const object of this.objects.values()) object.map('ws_config').update(u32Key(STRICT_SLOT), value);
  }

  get loaded(): boolean {
    return this.objects.size > 0;
  }

  async start(): Promise<void> {
    const links = await listLinks(this.options.netns);
    const wg = links.find((l) => l.ifname === this.options.wgInterface);
    if (!wg) throw new DatapathError(`datapath: WireGuard device ${this.options.wgInterface} not found`);
    this.wgIfindex = wg.ifindex;
    const underlay = await underlayInterface(this.options.underlayIP, this.options.netns);
    const rodata = {
      cfg_node_id: nodeIdOf(this.options.underlayIP),
      cfg_wg_ifindex: this.wgIfindex,
      cfg_wg_port: this.options.wgPort,
      cfg_aggregation_ns: BigInt(Math.round(this.options.aggregationSeconds * 1e9)),
    };
    const dir = this.options.bpfDir ?? DEFAULT_BPF_DIR;
    // One ring buffer for every object (created by the first, reused by the others): a single
    // stream in commit order, so the observer never has to reorder records across readers.
    let sharedEvents: BpfMap | undefined;
    for (const spec of OBJECTS) {
      const path = join(dir, spec.file);
      if (!existsSync(path))
        throw new DatapathError(`datapath: ${path} missing: build bpf/ first (make -C bpf)`);
      let object: BpfObject;
      try {
        object = BpfObject.open(path, {
          rodata,
          maxEntries: { events: RING_BYTES },
          ...(sharedEvents ? { reuseMaps: { events: sharedEvents } } : {}),
        });
      } catch (err) {
        throw new DatapathError(`datapath: open ${spec.file}: ${messageOf(err)}`);
      }
      try {
        object.load();
      } catch (err) {
        object.close();
        this.stop();
        throw new DatapathError(
          `datapath: load ${spec.file} (programs ${object.programNames().join(', ')}) failed: ${messageOf(err)}`,
        );
      }
      this.objects.set(spec.name, object);
      if (!sharedEvents) {
        sharedEvents = object.map('events');
        object.openRingBuffer('events', (batch) => this.options.onBatch(batch), {
          coalesceMs: this.options.eventBatchWaitMs ?? 0,
        });
      }
    }
    this.setStrict(this.strictMode);
    const tc = new TcAttachments(this.options);
    this.tc = tc;
    // Before kfree_skb attaches: the node's own namespace, so that scoping is on from the first drop.
    this.applyNetns(localNetns(nodeNetnsPath(this.options.netns), []));
    const crypto = this.object('crypto');
    tc.attachFixed(crypto, 'to_crypto', wg, 'egress');
    tc.attachFixed(crypto, 'from_crypto', wg, 'ingress');
    if (underlay) {
      tc.attachFixed(this.object('underlay'), 'to_network', underlay, 'egress');
      tc.attachFixed(this.object('underlay'), 'from_network', underlay, 'ingress');
    } else {
      this.options.log(`datapath: no interface holds ${this.options.underlayIP}; underlay not observed`);
    }
    const kfree = this.objects.get('kfree_skb');
    try {
      if (kfree) this.tracingLinks.push(kfree.attach('kfree_skb'));
      tc.setStatus('kfree_skb', {
        interface: '-',
        program: 'kfree_skb',
        direction: 'tracing',
        attached: true,
      });
    } catch (err) {
      tc.setStatus('kfree_skb', {
        interface: '-',
        program: 'kfree_skb',
        direction: 'tracing',
        attached: false,
        error: messageOf(err),
      });
    }
    this.options.log(
      `datapath: loaded (wg ${wg.ifname}#${wg.ifindex}, underlay ${underlay?.ifname ?? 'none'}, strict ${this.strictMode}, tc programs as ${tc.kind === 'tcx' ? 'TCX links' : 'cls_bpf filters'})`,
    );
  }

  /** The loaded object of that name (start() loads every one or fails). */
  private object(name: ObjectSpec['name']): BpfObject {
    const object = this.objects.get(name);
    if (!object) throw new DatapathError(`datapath: ${name} object not loaded`);
    return object;
  }

  /** Puts back what something else took away (TcAttachments.verify); returns what it found. */
  verifyAttachments(): string[] {
    return this.loaded ? (this.tc?.verify(this.objects.get('lxc')) ?? []) : [];
  }

  /** Makes maps and lxc attachments equal to `state`. Never throws for one bad interface. */
  async sync(state: DatapathState): Promise<void> {
    if (!this.loaded) return;
    const links = await listLinks(this.options.netns);
    const byName = new Map(links.map((l) => [l.ifname, l]));
    const endpoints: EndpointEntry[] = [];
    const wanted = new Map<string, LinkInfo>();
    for (const ep of state.endpoints) {
      const link = byName.get(ep.interface);
      if (!link) continue;
      wanted.set(ep.interface, link);
      if (link.address)
        endpoints.push({ ifindex: link.ifindex, mac: link.address, identity: ep.identity, ip: ep.ip });
    }
    this.tc?.syncEndpoints(this.object('lxc'), wanted);
    const localIfindex = new Map(state.endpoints.map((e) => [e.ip, byName.get(e.interface)?.ifindex ?? 0]));
    const ipcache = new Map(
      state.ipcache.map((e) => {
        const ip = e.prefix.split('/')[0] ?? '';
        const entry = localIfindex.has(ip) ? { ...e, ifindex: localIfindex.get(ip) ?? 0 } : e;
        return [ipcacheKey(e.prefix).toString('hex'), ipcacheValue(entry)];
      }),
    );
    const endpointMap = new Map(endpoints.map((e) => [u32Key(e.ifindex).toString('hex'), endpointValue(e)]));
    const one = Buffer.alloc(4);
    one.writeUInt32LE(1);
    const peers = new Map(state.peerNodeIds.map((id) => [u32Key(id).toString('hex'), one]));
    for (const object of this.objects.values()) {
      replaceMap(object, 'ws_ipcache', ipcache);
      replaceMap(object, 'ws_endpoints', endpointMap);
      replaceMap(object, 'ws_peers', peers);
    }
    const lxc = this.objects.get('lxc');
    if (lxc && state.policy)
      this.policyCounts = writePolicyMaps(lxc, state.policy, (name) => byName.get(name)?.ifindex);
    this.applyNetns(localNetns(nodeNetnsPath(this.options.netns), state.endpoints));
  }

  /**
   * ws_local_netns of the kfree_skb object = this node's namespaces; scoping (ws_config
   * NETNS_SCOPE) on only when the node's own namespace is known, else drops go by address alone.
   */
  private applyNetns(state: LocalNetns): void {
    this.netnsState = state;
    const object = this.objects.get('kfree_skb');
    // an object built before namespace scoping has no ws_local_netns: it attributes by address
    if (object?.mapNames().includes('ws_local_netns')) {
      replaceMap(object, 'ws_local_netns', localNetnsMap(state.inodes));
      const scope = Buffer.alloc(4);
      scope.writeUInt32LE(state.node !== undefined ? 1 : 0);
      object.map('ws_config').update(u32Key(NETNS_SCOPE_SLOT), scope);
    }
    const report = netnsProblems(state).join('\n');
    if (report !== this.netnsReport) {
      for (const line of report ? report.split('\n') : ['every local namespace known'])
        this.options.log(`datapath: kernel drops: ${line}`);
      this.netnsReport = report;
    }
  }

  /** Sum over objects and CPUs of the datapath counters, and ring-buffer reservation failures. */
  stats(): DatapathStats {
    return datapathStats(this.objects.values());
  }

  /** The in-kernel per-flow counters (every packet, not only traced ones). */
  flowCounters(): FlowCounter[] {
    return flowCounters(this.objects);
  }

  /** Transport bytes per peer underlay address and direction, counted on the underlay. */
  peerTraffic(): PeerTraffic[] {
    return peerTraffic(this.objects.get('underlay'));
  }

  /** Cross-node pod packets and bytes leaving this node's pods, per destination node id and state. */
  coverage(): CoverageCounter[] {
    return coverage(this.objects.get('lxc'));
  }

  status(): {
    loaded: boolean;
    strict: boolean;
    wgIfindex: number;
    attachments: AttachmentStatus[];
    netns: LocalNetns | undefined;
  } {
    return {
      loaded: this.loaded,
      strict: this.strictMode,
      wgIfindex: this.wgIfindex,
      attachments: this.tc?.status() ?? [],
      /** The namespaces whose kernel drops this node reports (inodes), and endpoints without one. */
      netns: this.loaded ? this.netnsState : undefined,
    };
  }

  /** Detaches every filter and frees the objects; idempotent. */
  stop(): void {
    this.tc?.stop();
    this.tc = undefined;
    for (const link of this.tracingLinks) {
      try {
        link.detach();
      } catch {
        // already gone
      }
    }
    this.tracingLinks = [];
    for (const object of this.objects.values()) {
      try {
        object.close();
      } catch {
        // filters on vanished interfaces
      }
    }
    this.objects.clear();
  }
}

function replaceMap(object: BpfObject, mapName: string, wanted: Map<string, Buffer>): void {
  const map = object.map(mapName);
  for (const key of [...map.keys()]) {
    if (!wanted.has(key.toString('hex'))) map.delete(key);
  }
  for (const [hex, value] of wanted) map.update(Buffer.from(hex, 'hex'), value);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const ipArgs = (netns: string | undefined, args: string[]): string[] =>
  netns ? ['-n', netns, ...args] : args;

async function underlayInterface(address: string, netns?: string): Promise<LinkInfo | undefined> {
  const { stdout } = await run('ip', ipArgs(netns, ['-j', 'addr', 'show']));
  const links = JSON.parse(stdout || '[]') as (LinkInfo & { addr_info?: { local: string }[] })[];
  return links.find((l) => l.addr_info?.some((a) => a.local === address));
}
