/**
 * The CiliumNetworkPolicy (cilium.io/v2) subset Wirescope implements, after parsing: selectors
 * already carry Cilium's namespace scoping, ports are numbers, protocols explicit.
 */
export const POLICY_KINDS = ['CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy'] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

/** A label key as written: `app` (any source), `k8s:app`, `reserved:host`. */
export interface LabelKey {
  /** undefined: any source */
  source: string | undefined;
  name: string;
}

export interface Requirement {
  key: LabelKey;
  operator: SelectorOperator;
  values: string[];
}

/** A Kubernetes LabelSelector as a list of requirements (matchLabels are `In [value]`). */
export interface Selector {
  requirements: Requirement[];
}

export const ENTITIES = ['world', 'cluster', 'host', 'remote-node', 'all'] as const;
export type Entity = (typeof ENTITIES)[number];

/** IANA protocol numbers; ANY expands to TCP, UDP and SCTP as in Cilium. */
export const PROTOCOLS = { TCP: 6, UDP: 17, SCTP: 132 } as const;
export type ProtocolName = keyof typeof PROTOCOLS | 'ANY';

export interface PortProtocol {
  /** 0: every port */
  port: number;
  /** 0: no range; else the last port of port..endPort */
  endPort: number;
  protocol: ProtocolName;
}

/** One element of ingress / ingressDeny / egress / egressDeny. */
export interface PeerRule {
  /** fromEndpoints / toEndpoints; undefined when not given (nil), [] selects nothing */
  endpoints: Selector[] | undefined;
  /** fromEntities / toEntities */
  entities: Entity[] | undefined;
  /** toPorts[].ports[] flattened; undefined when toPorts is absent */
  ports: PortProtocol[] | undefined;
}

export interface PolicyRule {
  endpointSelector: Selector;
  ingress: PeerRule[] | undefined;
  ingressDeny: PeerRule[] | undefined;
  egress: PeerRule[] | undefined;
  egressDeny: PeerRule[] | undefined;
  /** Rule.Sanitize's default when unset: the direction has an allow or a deny section */
  enableDefaultDeny: { ingress: boolean; egress: boolean };
  description: string;
  log: string;
}

export interface Policy {
  kind: PolicyKind;
  name: string;
  /** '' for a clusterwide policy */
  namespace: string;
  labels: Record<string, string>;
  rules: PolicyRule[];
  /**
   * Wirescope's extension (annotation `wirescope.io/require-encryption: "true"`): traffic to the
   * endpoints this policy selects must arrive through WireGuard; plaintext is dropped (195).
   */
  requireEncryption: boolean;
  /** where it came from, for messages */
  file: string;
  line: number;
  /** the YAML text of this document, as stored and shown by `policy get` */
  text: string;
}

/** What a verdict names: Hubble's flow.Policy without labels. */
export interface PolicyRef {
  kind: PolicyKind;
  name: string;
  namespace: string;
  revision: number;
}

export const policyId = (p: { kind: string; namespace: string; name: string }): string =>
  p.kind === 'CiliumClusterwideNetworkPolicy' ? `ccnp/${p.name}` : `cnp/${p.namespace}/${p.name}`;
