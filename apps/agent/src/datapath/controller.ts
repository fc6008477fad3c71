import { readFileSync } from 'node:fs';
import type { AgentConfig } from '../config.js';
import type { EndpointRecord, NodeRecord } from '../store/types.js';
import { FlowObserver } from '../flows/observer.js';
import type { EndpointInfo, EnrichContext, NodeInfo } from '../flows/enrich.js';
import { listLinks } from './links.js';
import { BpfDatapath, type DatapathState } from './loader.js';
import { IpcacheFlag, nodeIdOf, type IpcacheEntry } from './maps.js';
import { vmlinuxHeader } from '@wirescope/bpf';
import type { PolicyRef } from '@wirescope/policy';
import { PolicyEngine } from '../policy/engine.js';

const VMLINUX_H = vmlinuxHeader;
const INTERFACE_REFRESH_MS = 60_000;

/** Kernel skb_drop_reason names by value, read from the vmlinux.h the objects were built with. */
export function kernelDropReasons(text: string): Map<number, string> {
  const out = new Map<number, string>();
  const start = text.indexOf('enum skb_drop_reason {');
  if (start < 0) return out;
  text = text.slice(start, text.indexOf('};', start));
  for (const m of text.matchAll(/\bSKB_DROP_REASON_([A-Z0-9_]+) = (\d+),/g))
    out.set(Number(m[2]), m[1] ?? '');
  return out;
}

export interface DatapathSyncInput {
  nodes: NodeRecord[];
  endpoints: (EndpointRecord & { identity: number | undefined })[];
  /** Nodes the WireGuard device has a peer for. */
  peerNodes: string[];
}

/**
 * Glue between the agent's control plane and the eBPF datapath: builds the ipcache from the store,
 * owns the flow observer and the lookups enrichment uses.
 */
export class DatapathController implements EnrichContext {
  readonly datapath: BpfDatapath;
  readonly observer: FlowObserver;
  readonly policy: PolicyEngine;
  private endpointsByIP = new Map<string, EndpointInfo>();
  private nodesById = new Map<number, NodeInfo>();
  private nodesByIP = new Map<string, NodeInfo>();
  private interfaces = new Map<number, string>();
  private interfacesAt = 0;
  /** The endpoints' veths the names were last read for. */
  private interfacesFor = '';
  private dropReasons = new Map<number, string>();
  private readonly clockOffsetNs: bigint;
  private lostTimer: NodeJS.Timeout | undefined;
  private readonly knownNodes = new Map<string, NodeRecord>();
  private lastState: DatapathState | undefined;
  private detached = false;
  private programming: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: AgentConfig,
    private readonly log: (message: string) => void,
  ) {
    this.clockOffsetNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
    try {
      this.dropReasons = kernelDropReasons(readFileSync(VMLINUX_H, 'utf8'));
    } catch {
      // names are cosmetic: flows then say "reason N"
    }
    this.policy = new PolicyEngine(config.datapath.policyAuditMode, log);
    this.observer = new FlowObserver(this, config.datapath.flowRingCapacity);
    this.datapath = new BpfDatapath({
      nodeName: config.nodeName,
      underlayIP: config.underlayIP,
      wgInterface: config.wireguard.interfaceName,
      wgPort: config.wireguard.listenPort,
      strict: config.datapath.strict,
      aggregationSeconds: config.datapath.aggregationSeconds,
      eventBatchWaitMs: config.datapath.eventBatchWaitMs,
      tcAttach: config.datapath.tcAttach,
      bpfRoot: config.datapath.bpfRoot,
      log,
      onBatch: (batch) => this.observer.onBatch(batch),
    });
  }

  get nodeName(): string {
    return this.config.nodeName;
  }

  async start(): Promise<void> {
    await this.datapath.start();
    this.lostTimer = setInterval(() => {
      try {
        this.observer.setKernelLost(this.datapath.stats().lostEvents);
      } catch {
        // objects closed during stop
      }
    }, 1000);
    this.lostTimer.unref();
  }

  async sync(input: DatapathSyncInput): Promise<void> {
    // A node that left the store still hosts its endpoints until they are removed: keep knowing
    // where they live, so that traffic to them is dropped (strict) or seen leaking, not unknown.
    for (const node of input.nodes) this.knownNodes.set(node.name, node);
    const hosting = new Set(input.endpoints.map((e) => e.node));
    for (const name of [...this.knownNodes.keys()]) {
      if (!hosting.has(name) && !input.nodes.some((n) => n.name === name)) this.knownNodes.delete(name);
    }
    const nodes = [...this.knownNodes.values()];
    const nodeByName = new Map(nodes.map((n) => [n.name, n]));
    this.nodesById = new Map(
      nodes.map((n) => [
        nodeIdOf(n.underlayIP),
        { name: n.name, underlayIP: n.underlayIP, publicKey: n.wireguardPublicKey },
      ]),
    );
    this.nodesByIP = new Map([...this.nodesById.values()].map((n) => [n.underlayIP, n]));
    const ipcache: IpcacheEntry[] = [];
    for (const node of nodes) {
      const self = node.name === this.config.nodeName;
      const nodeId = nodeIdOf(node.underlayIP);
      ipcache.push({
        prefix: node.podCIDR,
        identity: 2,
        nodeId,
        tunnelIP: node.underlayIP,
        ifindex: 0,
        flags: IpcacheFlag.POD | (self ? IpcacheFlag.LOCAL : 0),
      });
      ipcache.push({
        prefix: `${node.underlayIP}/32`,
        identity: self ? 1 : 6,
        nodeId,
        tunnelIP: node.underlayIP,
        ifindex: 0,
        flags: IpcacheFlag.NODE,
      });
    }
    const byIP = new Map<string, EndpointInfo>();
    for (const ep of input.endpoints) {
      const node = nodeByName.get(ep.node);
      const identity = ep.identity ?? 0;
      byIP.set(ep.ip, { namespace: ep.namespace, pod: ep.pod, labels: ep.labels, identity, node: ep.node });
      if (!node) continue;
      const local = ep.node === this.config.nodeName;
      ipcache.push({
        prefix: `${ep.ip}/32`,
        identity,
        nodeId: nodeIdOf(node.underlayIP),
        tunnelIP: node.underlayIP,
        ifindex: 0,
        flags: IpcacheFlag.POD | (local ? IpcacheFlag.LOCAL : 0),
      });
    }
    this.endpointsByIP = byIP;
    const peerNodeIds = input.peerNodes
      .map((name) => nodeByName.get(name))
      .filter((n): n is NodeRecord => n !== undefined)
      .map((n) => nodeIdOf(n.underlayIP));
    const local = input.endpoints.filter((e) => e.node === this.config.nodeName);
    this.lastState = {
      ipcache,
      endpoints: local.map((e) => ({
        interface: e.interface,
        ip: e.ip,
        identity: e.identity ?? 0,
        netns: e.netns,
      })),
      peerNodeIds,
      policy: this.policy.program(input.endpoints, local),
    };
    const state = this.lastState;
    await this.oneAtATime(async () => {
      if (!this.detached) await this.datapath.sync(state);
    });
    // names change with the endpoints' veths; otherwise once a minute (or on a miss) is plenty:
    // each reading is an `ip` process, and one per resync was a good part of the idle agent's CPU
    const veths = input.endpoints
      .map((e) => e.interface)
      .sort()
      .join(',');
    if (veths !== this.interfacesFor || Date.now() - this.interfacesAt > INTERFACE_REFRESH_MS) {
      this.interfacesFor = veths;
      await this.refreshInterfaces();
    }
  }

  private async refreshInterfaces(): Promise<void> {
    this.interfacesAt = Date.now();
    try {
      this.interfaces = new Map((await listLinks()).map((l) => [l.ifindex, l.ifname]));
    } catch {
      // keep the previous names
    }
  }

  /**
   * Detaches every program (traffic falls back to route steering) or loads and attaches them
   * again with the last synced maps: the overhead benchmark compares the two.
   */
  async setAttached(attached: boolean): Promise<void> {
    await this.oneAtATime(async () => {
      if (attached === !this.detached) return;
      if (!attached) {
        this.detached = true;
        this.datapath.stop();
        return;
      }
      await this.datapath.start();
      this.detached = false;
      if (this.lastState) await this.datapath.sync(this.lastState);
    });
  }

  /** The WireGuard device was recreated: its new ifindex is compiled into the programs, so load them again. */
  async reload(): Promise<void> {
    await this.oneAtATime(async () => {
      if (this.detached) return;
      this.datapath.stop();
      await this.datapath.start();
      if (this.lastState) await this.datapath.sync(this.lastState);
    });
  }

  /**
   * Loading, attaching and syncing the programs await `ip` and tc calls: a resync interleaved with
   * a re-attach could attach one endpoint twice and keep the wrong link. One at a time, in order.
   */
  private oneAtATime(step: () => Promise<void>): Promise<void> {
    const run = this.programming.then(step, step);
    this.programming = run.catch(() => undefined);
    return run;
  }

  get attached(): boolean {
    return !this.detached;
  }

  endpointByIP(ip: string): EndpointInfo | undefined {
    return this.endpointsByIP.get(ip);
  }

  nodeById(id: number): NodeInfo | undefined {
    return this.nodesById.get(id);
  }

  nodeByUnderlayIP(ip: string): NodeInfo | undefined {
    return this.nodesByIP.get(ip);
  }

  interfaceName(ifindex: number): string | undefined {
    const name = this.interfaces.get(ifindex);
    // an interface made since the last reading: read again, at most once a second
    if (name === undefined && Date.now() - this.interfacesAt > 1000) void this.refreshInterfaces();
    return name;
  }

  receiverIndexFor(peerAddress: string): number | undefined {
    return this.observer.tracker.receiverIndexFor(peerAddress);
  }

  policyAttribution(cookie: number): PolicyRef[] {
    return this.policy.attribution(cookie);
  }

  policyEnforcedBy(ifindex: number, direction: 'ingress' | 'egress'): PolicyRef[] {
    const name = this.interfaces.get(ifindex);
    return name ? this.policy.enforcedBy(name, direction) : [];
  }

  policyEncryptionBy(ifindex: number): PolicyRef[] {
    const name = this.interfaces.get(ifindex);
    return name ? this.policy.encryptionBy(name) : [];
  }

  kernelDropReasonName(reason: number): string | undefined {
    return this.dropReasons.get(reason);
  }

  wallClockMs(ktimeNs: bigint): number {
    return Number((ktimeNs + this.clockOffsetNs) / 1_000_000n);
  }

  wallClockNs(ktimeNs: bigint): bigint {
    return ktimeNs + this.clockOffsetNs;
  }

  status(): unknown {
    let stats: unknown;
    try {
      stats = this.datapath.stats();
    } catch (err) {
      stats = { error: err instanceof Error ? err.message : String(err) };
    }
    return {
      node: this.config.nodeName,
      ...this.datapath.status(),
      stats,
      peerTraffic: this.datapath.loaded ? this.datapath.peerTraffic() : [],
      observer: this.observer.counters(),
    };
  }

  stop(): void {
    clearInterval(this.lostTimer);
    this.datapath.stop();
  }
}
