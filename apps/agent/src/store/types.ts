/** What a node publishes about itself. */
export interface NodeRecord {
  name: string;
  underlayIP: string;
  podCIDR: string;
  wireguardPublicKey: string;
  wireguardPort: number;
}

/** A pod's endpoint, written by the CNI step (the lab) and read by agents. */
export interface EndpointRecord {
  namespace: string;
  pod: string;
  node: string;
  ip: string;
  /** Host-side interface in the node namespace (lxc…). */
  interface: string;
  labels: Record<string, string>;
  /**
   * The pod's network namespace file, as a CNI is given it (CNI_NETNS), e.g. /run/netns/<name>.
   * Optional: without it, kernel drops inside the pod's namespace are reported by no node.
   */
  netns?: string;
}

/** A network policy as applied (`wirescope policy apply`): the YAML document is the truth. */
export interface PolicyRecord {
  kind: string;
  name: string;
  /** '' for a clusterwide policy */
  namespace: string;
  /** the policy's YAML document, as applied */
  text: string;
  /** the file it was applied from, for messages */
  file: string;
  /** the store's revision of this policy: changes whenever an apply changes it */
  revision: number;
}

export type Unsubscribe = () => void;

/**
 * The cluster store every agent talks to. etcd implements it in the lab; a Kubernetes-API
 * source (Node annotations, Pods) is the in-cluster alternative behind the same interface.
 */
export interface ClusterStore {
  /** Publishes (or republishes) this node's record, and its liveness under a lease kept alive until close(). */
  registerNode(node: NodeRecord): Promise<void>;
  /** Republishes the registered node if its lease was lost or its key removed; true if it did. */
  ensureRegistered(): Promise<boolean>;
  /** Every member of the cluster, whether or not its agent is running. */
  listNodes(): Promise<NodeRecord[]>;
  /** Names of the nodes whose agent is alive (holds its lease); the others are stale, not gone. */
  liveNodeNames(): Promise<Set<string>>;
  /** Removes a node from the cluster on purpose: only this takes its peer away at once. */
  deleteNode(name: string): Promise<void>;
  /** Calls back on any change to nodes or their liveness; the callback should re-list (no diff). */
  watchNodes(onChange: () => void): Unsubscribe;
  putEndpoint(endpoint: EndpointRecord): Promise<void>;
  deleteEndpoint(namespace: string, pod: string): Promise<void>;
  listEndpoints(): Promise<EndpointRecord[]>;
  watchEndpoints(onChange: () => void): Unsubscribe;
  /** Stores a policy; an apply of the same text changes nothing (same revision). */
  putPolicy(policy: Omit<PolicyRecord, 'revision'>): Promise<{ revision: number; changed: boolean }>;
  /** true when it existed */
  deletePolicy(kind: string, namespace: string, name: string): Promise<boolean>;
  listPolicies(): Promise<PolicyRecord[]>;
  watchPolicies(onChange: () => void): Unsubscribe;
  /** Cluster-wide numeric identity for a label set: the same labels get the same id everywhere. */
  allocateIdentity(labels: Record<string, string>): Promise<number>;
  /** Cheap round trip used for health and to detect that the store is back. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
