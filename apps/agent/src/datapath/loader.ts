import { execFileSync } from 'node:child_process';
import { listLinks, type LinkInfo } from './links.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  BPF_FS,
  BpfObject,
  type BpfMap,
  type RecordBatch,
  type TcAttachKind,
  type TcLink,
  type TracingLink,
  type TcDirection,
} from '@wirescope/libbpf';
import { AttachmentRepairs, attachmentKey, filterState } from './repairs.js';
import { TcxPins, defaultPinDir } from './pins.js';
import { run } from '../exec.js';
import {
  decodeFlowCounter,
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

/** tc filter priority and handle of every Wirescope datapath filter: fixed, so a restart replaces them. */
const TC_PRIORITY = 1;
const TC_HANDLE = 0x5753;
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

export interface AttachmentStatus {
  interface: string;
  program: string;
  direction: TcDirection | 'tracing';
  attached: boolean;
  error?: string;
  /** tc programs: a TCX link or a cls_bpf filter. */
  kind?: TcAttachKind;
  /** A TCX link's id (`bpftool link show id …`). */
  linkId?: number;
  /** Times the agent found this filter taken away (deleted, replaced) and put it back. */
  repairs?: number;
  /** ISO time of the last of them. */
  lastRepair?: string;
}

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

const STAT_NAMES = [
  'leakPackets',
  'redirects',
  'strictDrops',
  'flowsCreated',
  'traces',
  'arpReplies',
  'transportPackets',
  'policyDrops',
] as const;

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
  private endpointLinks = new Map<string, { ifindex: number; links: TcLink[] }>();
  private tracingLinks: TracingLink[] = [];
  /** The WireGuard-device and underlay filters, with what putting one back takes. */
  private fixedTc: { objectName: ObjectSpec['name']; link: LinkInfo; tc: TcLink }[] = [];
  private attachments = new Map<string, AttachmentStatus>();
  private repairs = new AttachmentRepairs();
  private wgIfindex = 0;
  private tcKind: TcAttachKind = 'filter';
  private pins: TcxPins | undefined;
  private synced = false;
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
    this.tcKind = this.options.tcAttach === 'filter' ? 'filter' : 'tcx';
    // with filters too: the first sync then removes links an agent attaching by TCX left
    this.openPins();
    // Before kfree_skb attaches: the node's own namespace, so that scoping is on from the first drop.
    this.applyNetns(localNetns(nodeNetnsPath(this.options.netns), []));
    this.attachFixed('crypto', 'to_crypto', wg, 'egress');
    this.attachFixed('crypto', 'from_crypto', wg, 'ingress');
    if (underlay) {
      this.attachFixed('underlay', 'to_network', underlay, 'egress');
      this.attachFixed('underlay', 'from_network', underlay, 'ingress');
    } else {
      this.options.log(`datapath: no interface holds ${this.options.underlayIP}; underlay not observed`);
    }
    const kfree = this.objects.get('kfree_skb');
    try {
      if (kfree) this.tracingLinks.push(kfree.attach('kfree_skb'));
      this.attachments.set('kfree_skb', {
        interface: '-',
        program: 'kfree_skb',
        direction: 'tracing',
        attached: true,
      });
    } catch (err) {
      this.attachments.set('kfree_skb', {
        interface: '-',
        program: 'kfree_skb',
        direction: 'tracing',
        attached: false,
        error: messageOf(err),
      });
    }
    this.options.log(
      `datapath: loaded (wg ${wg.ifname}#${wg.ifindex}, underlay ${underlay?.ifname ?? 'none'}, strict ${this.strictMode}, tc programs as ${this.tcKind === 'tcx' ? 'TCX links' : 'cls_bpf filters'})`,
    );
  }

  private openPins(): void {
    const dir = this.options.pinDir ?? defaultPinDir(this.options.netns, this.options.bpfRoot);
    if (!dir) {
      if (this.tcKind === 'tcx')
        this.options.log(
          `datapath: TCX links not pinned (no bpffs at ${this.options.bpfRoot ?? BPF_FS}): a killed agent's links go with it`,
        );
      return;
    }
    try {
      this.pins = new TcxPins(dir);
    } catch (err) {
      this.options.log(`datapath: TCX links not pinned: ${messageOf(err)}`);
    }
  }

  /**
   * One tc program on one hook. A TCX link is pinned, and a link a killed agent left pinned there
   * is taken over (the hook never goes empty); a cls_bpf filter has a fixed priority and handle,
   * and one a killed agent left is replaced. Either way an earlier attach of the other kind goes.
   */
  private attachTc(
    objectName: ObjectSpec['name'],
    program: string,
    link: LinkInfo,
    direction: TcDirection,
  ): TcLink | undefined {
    const key = attachmentKey(link.ifname, direction);
    const object = this.objects.get(objectName);
    if (!object) return undefined;
    const attach = (kind: TcAttachKind) => {
      const pin = kind === 'tcx' ? this.pins?.path(link.ifname, direction) : undefined;
      const tc = object.attachTc(program, {
        ifindex: link.ifindex,
        direction,
        kind,
        // tcx: the filter an agent that attached by filters left, deleted once the link runs
        priority: TC_PRIORITY,
        handle: TC_HANDLE,
        ...(pin ? { pin } : {}),
        ...(this.options.netns ? { netns: this.options.netns } : {}),
      });
      if (pin) this.pins?.used(pin, tc);
      return tc;
    };
    try {
      let tc: TcLink;
      try {
        tc = attach(this.tcKind);
      } catch (err) {
        if (this.tcKind === 'tcx' && this.options.tcAttach !== 'tcx' && errnoOf(err) === 'EINVAL') {
          this.tcKind = 'filter';
          this.options.log(
            `datapath: this kernel has no TCX links (${messageOf(err)}); tc programs attach as cls_bpf filters`,
          );
          return this.attachTc(objectName, program, link, direction);
        }
        if (this.tcKind === 'tcx' || !/exist/i.test(messageOf(err))) throw err;
        removeStaleFilterSync(link.ifname, direction, this.options.netns);
        tc = attach('filter');
      }
      this.attachments.set(key, {
        interface: link.ifname,
        program,
        direction,
        attached: true,
        kind: tc.kind,
        ...(tc.linkId ? { linkId: tc.linkId } : {}),
      });
      return tc;
    } catch (err) {
      const message = `attach ${program} to ${link.ifname} ${direction}: ${messageOf(err)}`;
      this.attachments.set(key, {
        interface: link.ifname,
        program,
        direction,
        attached: false,
        error: message,
      });
      this.options.log(`datapath: ${message}`);
      return undefined;
    }
  }

  private attachFixed(
    objectName: ObjectSpec['name'],
    program: string,
    link: LinkInfo,
    direction: TcDirection,
  ): void {
    const tc = this.attachTc(objectName, program, link, direction);
    if (tc) this.fixedTc.push({ objectName, link, tc });
  }

  /**
   * Puts back, at once, every filter of ours that something else took away (`tc filter del`, a
   * flush of the qdisc, another program at our handle and priority): the agent used to report
   * them attached while the pod traffic behind them went unobserved and, for from_endpoint,
   * unsteered. Each one is logged and counted (status `repairs`, a metric). A filter whose
   * interface is gone is left to the endpoint sync and the device supervision. Returns what it
   * found taken away.
   */
  verifyAttachments(): string[] {
    if (!this.loaded) return [];
    const found: string[] = [];
    const note = (tc: TcLink, ifname: string) => {
      found.push(this.repairs.note(ifname, tc));
      try {
        tc.detach(); // not ours any more (or gone): this only forgets it
      } catch {
        // nothing left to remove
      }
    };
    for (const fixed of this.fixedTc) {
      if (filterState(fixed.tc) !== 'missing') continue;
      note(fixed.tc, fixed.link.ifname);
      fixed.tc =
        this.attachTc(fixed.objectName, fixed.tc.program, fixed.link, fixed.tc.direction) ?? fixed.tc;
    }
    for (const [ifname, endpoint] of this.endpointLinks) {
      endpoint.links = endpoint.links.map((link) => {
        if (filterState(link) !== 'missing') return link;
        note(link, ifname);
        return (
          this.attachTc('lxc', link.program, { ifindex: endpoint.ifindex, ifname }, link.direction) ?? link
        );
      });
    }
    if (found.length > 0)
      this.options.log(`datapath: filters taken away by something else, put back: ${found.join(', ')}`);
    return found;
  }

  /** Makes maps and lxc attachments equal to `state`. Never throws for one bad interface. */
  async sync(state: DatapathState): Promise<void> {
    if (!this.loaded) return;
    const links = await listLinks(this.options.netns);
    const byName = new Map(links.map((l) => [l.ifname, l]));
    const endpoints: EndpointEntry[] = [];
    const wanted = new Set<string>();
    for (const ep of state.endpoints) {
      const link = byName.get(ep.interface);
      if (!link) continue;
      wanted.add(ep.interface);
      if (link.address)
        endpoints.push({ ifindex: link.ifindex, mac: link.address, identity: ep.identity, ip: ep.ip });
      const current = this.endpointLinks.get(ep.interface);
      if (
        current &&
        current.ifindex === link.ifindex &&
        current.links.length === LXC_PROGRAMS &&
        current.links.every((l) => l.attached)
      )
        continue;
      if (current) this.detachEndpoint(ep.interface);
      const attached = [
        this.attachTc('lxc', 'from_endpoint', link, 'ingress'),
        this.attachTc('lxc', 'to_endpoint', link, 'egress'),
      ].filter((l): l is TcLink => l !== undefined);
      this.endpointLinks.set(ep.interface, { ifindex: link.ifindex, links: attached });
    }
    for (const name of [...this.endpointLinks.keys()]) {
      if (!wanted.has(name)) this.detachEndpoint(name);
    }
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
    if (!this.synced) {
      this.synced = true;
      // every interface this node still has is attached now: what a killed agent left beyond
      // those are pods that went while no agent ran
      for (const line of this.pins?.settle() ?? []) this.options.log(`datapath: ${line}`);
    }
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

  private detachEndpoint(name: string): void {
    const current = this.endpointLinks.get(name);
    this.endpointLinks.delete(name);
    for (const link of current?.links ?? []) {
      try {
        link.detach();
      } catch (err) {
        // the interface vanished with its filters: nothing left to remove
        this.options.log(`datapath: detach from ${name}: ${messageOf(err)}`);
      }
    }
    this.attachments.delete(attachmentKey(name, 'ingress'));
    this.attachments.delete(attachmentKey(name, 'egress'));
  }

  /** Sum over objects and CPUs of the datapath counters, and ring-buffer reservation failures. */
  stats(): Record<(typeof STAT_NAMES)[number] | 'lostEvents', number> {
    const out = Object.fromEntries([...STAT_NAMES, 'lostEvents'].map((n) => [n, 0])) as Record<
      (typeof STAT_NAMES)[number] | 'lostEvents',
      number
    >;
    for (const object of this.objects.values()) {
      const stats = object.map('ws_stats');
      STAT_NAMES.forEach((name, slot) => (out[name] += Number(stats.sumPerCpuU64(u32Key(slot)))));
      out.lostEvents += Number(object.map('lost_events').sumPerCpuU64(u32Key(0)));
    }
    return out;
  }

  /** The in-kernel per-flow counters (every packet, not only traced ones). */
  flowCounters(): FlowCounter[] {
    const out: FlowCounter[] = [];
    for (const name of ['lxc', 'crypto', 'underlay'] as const) {
      const object = this.objects.get(name);
      if (!object) continue;
      for (const [key, value] of object.map('ws_flows').entries()) {
        const counter = decodeFlowCounter(key, value);
        if (counter) out.push(counter);
      }
    }
    return out;
  }

  /** Transport bytes per peer underlay address and direction, counted on the underlay. */
  peerTraffic(): { peerIP: string; direction: 'egress' | 'ingress'; packets: number; bytes: number }[] {
    const object = this.objects.get('underlay');
    if (!object) return [];
    const out = [];
    for (const [key, value] of object.map('ws_peer_traffic').entries()) {
      out.push({
        peerIP: `${key[0]}.${key[1]}.${key[2]}.${key[3]}`,
        direction: key.readUInt32LE(4) === 2 ? ('egress' as const) : ('ingress' as const),
        ...sumCounterPairs(value),
      });
    }
    return out;
  }

  /**
   * Cross-node pod packets and bytes leaving this node's pods, per destination node id and state
   * (ws_coverage in bpf/lib/coverage.h, counted in the kernel for every packet).
   */
  coverage(): {
    nodeId: number;
    state: 'encrypted' | 'plaintext' | 'dropped';
    packets: number;
    bytes: number;
  }[] {
    const object = this.objects.get('lxc');
    if (!object) return [];
    const states = ['encrypted', 'plaintext', 'dropped'] as const;
    const out = [];
    for (const [key, value] of object.map('ws_coverage').entries()) {
      const state = states[key.readUInt32LE(4)];
      if (!state) continue;
      out.push({ nodeId: key.readUInt32LE(0), state, ...sumCounterPairs(value) });
    }
    return out;
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
      attachments: [...this.attachments].map(([key, a]) => this.repairs.decorate(key, a)),
      /** The namespaces whose kernel drops this node reports (inodes), and endpoints without one. */
      netns: this.loaded ? this.netnsState : undefined,
    };
  }

  /** Detaches every filter and frees the objects; idempotent. */
  stop(): void {
    for (const name of [...this.endpointLinks.keys()]) this.detachEndpoint(name);
    for (const link of [...this.tracingLinks, ...this.fixedTc.map((f) => f.tc)]) {
      try {
        link.detach();
      } catch {
        // interface already gone
      }
    }
    this.tracingLinks = [];
    this.fixedTc = [];
    this.pins?.close();
    this.pins = undefined;
    this.synced = false;
    for (const object of this.objects.values()) {
      try {
        object.close();
      } catch {
        // filters on vanished interfaces
      }
    }
    this.objects.clear();
    this.attachments.clear();
  }
}

function replaceMap(object: BpfObject, mapName: string, wanted: Map<string, Buffer>): void {
  const map = object.map(mapName);
  for (const key of [...map.keys()]) {
    if (!wanted.has(key.toString('hex'))) map.delete(key);
  }
  for (const [hex, value] of wanted) map.update(Buffer.from(hex, 'hex'), value);
}

/** from_endpoint and to_endpoint on every pod veth */
const LXC_PROGRAMS = 2;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function errnoOf(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

const ipArgs = (netns: string | undefined, args: string[]): string[] =>
  netns ? ['-n', netns, ...args] : args;

/**
 * { packets, bytes } of a counter value: two u64, one pair per CPU in the per-CPU maps that count
 * every packet (ws_peer_traffic, ws_coverage: no atomic add bouncing between CPUs), summed.
 */
function sumCounterPairs(value: Buffer): { packets: number; bytes: number } {
  let packets = 0n;
  let bytes = 0n;
  for (let off = 0; off + 16 <= value.length; off += 16) {
    packets += value.readBigUInt64LE(off);
    bytes += value.readBigUInt64LE(off + 8);
  }
  return { packets: Number(packets), bytes: Number(bytes) };
}

async function underlayInterface(address: string, netns?: string): Promise<LinkInfo | undefined> {
  const { stdout } = await run('ip', ipArgs(netns, ['-j', 'addr', 'show']));
  const links = JSON.parse(stdout || '[]') as (LinkInfo & { addr_info?: { local: string }[] })[];
  return links.find((l) => l.addr_info?.some((a) => a.local === address));
}

function removeStaleFilterSync(ifname: string, direction: TcDirection, netns?: string): void {
  // Synchronous on purpose: attach happens inside one sync step. Errors mean nothing to remove.
  try {
    execFileSync('tc', [
      ...(netns ? ['-n', netns] : []),
      'filter',
      'del',
      'dev',
      ifname,
      direction,
      'pref',
      String(TC_PRIORITY),
      'handle',
      `0x${TC_HANDLE.toString(16)}`,
      'bpf',
    ]);
  } catch {
    // nothing there
  }
}
