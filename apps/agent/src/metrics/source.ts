/**
 * The agent's state as @wirescope/metrics reads it: WireGuard peers, cluster size, the eBPF
 * datapath's counters (coverage by node id, mapped to node names) and the flow ring.
 */
import type {
  CoverageCounter,
  CoverageState,
  DatapathSnapshot,
  NodeMetricsSource,
  RingSnapshot,
  WireguardSnapshot,
} from '@wirescope/metrics';
import type { EncryptStatus } from '../wireguard/manager.js';
import type { NodeRecord } from '../store/types.js';
import type { DatapathController } from '../datapath/controller.js';
import { nodeIdOf } from '../datapath/maps.js';

/** Re-read the WireGuard device at most this often: scrapes stay cheap, handshakes stay fresh. */
const WIREGUARD_REFRESH_MS = 1000;
const COVERAGE_STATES: CoverageState[] = ['encrypted', 'plaintext', 'dropped'];

export interface AgentMetricsInputs {
  nodeName: string;
  /** the cluster's nodes this agent keeps (itself included) */
  nodes(): NodeRecord[];
  /** the device's state, stale peers marked */
  encryptStatus(): Promise<EncryptStatus>;
  datapath(): DatapathController | undefined;
  /** flows dropped because a follower's queue was full (the Hubble observer's count) */
  observerQueueLost(): number;
}

export class AgentMetricsSource implements NodeMetricsSource {
  readonly nodeName: string;
  private wg: WireguardSnapshot | undefined;
  private wgReadAt = 0;
  /** node id -> name of every node seen: the kernel keeps counting a node removed from the store. */
  private readonly nodeNames = new Map<number, string>();

  constructor(private readonly inputs: AgentMetricsInputs) {
    this.nodeName = inputs.nodeName;
  }

  async refresh(): Promise<void> {
    if (Date.now() - this.wgReadAt < WIREGUARD_REFRESH_MS) return;
    this.wgReadAt = Date.now();
    try {
      const status = await this.inputs.encryptStatus();
      this.wg = {
        interface: status.interface,
        publicKey: status.publicKey,
        listenPort: status.listenPort,
        peers: status.peers.map((p) => ({
          node: p.node,
          publicKey: p.publicKey,
          endpoint: p.endpoint,
          allowedIPs: p.allowedIPs,
          latestHandshakeSeconds: p.latestHandshake ? Math.floor(Date.parse(p.latestHandshake) / 1000) : 0,
          rxBytes: p.rxBytes,
          txBytes: p.txBytes,
          stale: p.staleSince !== undefined,
        })),
      };
    } catch {
      // the device is gone (its outage is in health): no WireGuard series until it is back
      this.wg = undefined;
    }
  }

  wireguard(): WireguardSnapshot | undefined {
    return this.wg;
  }

  clusterNodes(): number {
    return this.inputs.nodes().length;
  }

  datapath(): DatapathSnapshot | undefined {
    const controller = this.inputs.datapath();
    if (!controller?.datapath.loaded) return undefined;
    const loader = controller.datapath;
    for (const n of this.inputs.nodes()) this.nodeNames.set(nodeIdOf(n.underlayIP), n.name);
    const names = this.nodeNames;
    const status = loader.status();
    return {
      attachments: status.attachments.map((a) => ({
        program: a.program,
        interface: a.interface,
        direction: a.direction,
        attached: a.attached,
        repairs: a.repairs ?? 0,
      })),
      leakPackets: loader.stats().leakPackets,
      coverage: this.coverage(loader.coverage(), names),
    };
  }

  /**
   * The kernel's counters, plus a zero for every other node and state the kernel has not counted
   * yet: a pair's first plaintext packet then shows as an increase (rate, alerts), not a new series.
   */
  private coverage(
    counted: ReturnType<DatapathController['datapath']['coverage']>,
    names: Map<number, string>,
  ): CoverageCounter[] {
    const out = new Map<string, CoverageCounter>();
    for (const node of this.inputs.nodes()) {
      if (node.name === this.nodeName) continue;
      for (const state of COVERAGE_STATES)
        out.set(`${node.name}/${state}`, { destinationNode: node.name, state, packets: 0, bytes: 0 });
    }
    for (const c of counted) {
      const destinationNode = names.get(c.nodeId) ?? `node-id-${c.nodeId}`;
      out.set(`${destinationNode}/${c.state}`, {
        destinationNode,
        state: c.state,
        packets: c.packets,
        bytes: c.bytes,
      });
    }
    return [...out.values()];
  }

  ring(): RingSnapshot {
    const counters = this.inputs.datapath()?.observer.counters();
    return {
      flows: counters?.flowsInRing ?? 0,
      capacity: counters?.capacity ?? 0,
      lost: {
        kernelRing: counters?.kernelLost ?? 0,
        decode: counters?.undecodable ?? 0,
        observerQueue: this.inputs.observerQueueLost(),
      },
    };
  }

  strictMode(): boolean {
    return this.inputs.datapath()?.datapath.status().strict ?? false;
  }
}
