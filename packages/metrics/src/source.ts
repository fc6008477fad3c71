/**
 * The narrow input of a node's metrics: read at scrape time from the agent's getters. Nothing
 * here is counted in JS per packet; packet and byte totals come from the kernel's counters.
 */

export interface WireguardPeerSnapshot {
  /** the peer's node name, when the cluster store names it */
  node: string | undefined;
  publicKey: string;
  endpoint: string | undefined;
  allowedIPs: string[];
  /** Unix seconds of the latest handshake; 0 when none yet (as the exporters and their alerts assume) */
  latestHandshakeSeconds: number;
  rxBytes: number;
  txBytes: number;
  /** the peer node's agent is gone; the peer is kept */
  stale: boolean;
}

export interface WireguardSnapshot {
  interface: string;
  publicKey: string;
  listenPort: number;
  peers: WireguardPeerSnapshot[];
}

export type CoverageState = 'encrypted' | 'plaintext' | 'dropped';

/** Cross-node pod packets leaving this node's pods, counted in the kernel for every packet. */
export interface CoverageCounter {
  destinationNode: string;
  state: CoverageState;
  packets: number;
  bytes: number;
}

export interface AttachmentSnapshot {
  program: string;
  interface: string;
  direction: string;
  attached: boolean;
  /** times the agent found the tc program taken away and put it back */
  repairs: number;
}

export interface DatapathSnapshot {
  attachments: AttachmentSnapshot[];
  /** pod-CIDR packets seen in clear on the underlay */
  leakPackets: number;
  coverage: CoverageCounter[];
}

/** Loss per stage, as running totals. */
export interface LostTotals {
  /** ring-buffer reservation failures in the kernel */
  kernelRing: number;
  /** records the agent could not decode */
  decode: number;
  /** flows dropped because a follower's queue was full */
  observerQueue: number;
}

export interface RingSnapshot {
  flows: number;
  capacity: number;
  lost: LostTotals;
}

export interface NodeMetricsSource {
  nodeName: string;
  /** Called before each scrape (e.g. to re-read the WireGuard device); the getters then answer from it. */
  refresh?(): Promise<void>;
  wireguard(): WireguardSnapshot | undefined;
  /** nodes in the cluster, this one included */
  clusterNodes(): number;
  /** undefined when the eBPF datapath is not loaded */
  datapath(): DatapathSnapshot | undefined;
  ring(): RingSnapshot;
  strictMode(): boolean;
}
