/**
 * The agent's policy engine: the store's policy records, parsed with the CLI's parser, compiled
 * for each local endpoint into what the datapath's policy maps hold (bpf/lib/policy.h), and the
 * attribution (cookie -> policies) that enrichment puts into verdict flows.
 */
import {
  PolicyError,
  compileEndpoint,
  endpointFlags,
  parsePolicies,
  podIdentityLabels,
  policyGeneration,
  type CompiledEndpoint,
  type IdentityInfo,
  type PolicyEntry,
  type PolicyRef,
  type StoredPolicyLike,
} from '@wirescope/policy';
import type { PolicyRecord } from '../store/types.js';

/** What the loader writes for one local endpoint (keyed by its host-side interface). */
export interface EndpointPolicyProgram {
  interface: string;
  /** struct ws_policy_ep.flags */
  flags: number;
  /** struct ws_policy_ep.generation: changes with the entries or flags */
  generation: number;
  entries: { entry: PolicyEntry; cookie: number }[];
}

export interface PolicyEndpointInput {
  namespace: string;
  pod: string;
  labels: Record<string, string>;
  identity: number | undefined;
  interface: string;
  node: string;
}

export interface EndpointPolicyStatus {
  endpoint: string;
  interface: string;
  ingress: { active: boolean; enforced: boolean; enforcedBy: string[] };
  egress: { active: boolean; enforced: boolean; enforcedBy: string[] };
  audit: boolean;
  requireEncryption: string[];
  entries: number;
}

export interface PolicyEngineStatus {
  revision: number;
  policies: { kind: string; namespace: string; name: string; revision: number }[];
  /** records the agent could not parse (written around the CLI): ignored, named here */
  rejected: string[];
  auditMode: boolean;
  auditEndpoints: string[];
  endpoints: EndpointPolicyStatus[];
}

const RESERVED_IDENTITIES: IdentityInfo[] = [
  { id: 1, labels: { 'reserved:host': '' } },
  { id: 2, labels: { 'reserved:world': '' } },
  { id: 6, labels: { 'reserved:remote-node': '' } },
];

const refName = (p: PolicyRef) => (p.namespace ? `${p.namespace}/${p.name}` : p.name);

export class PolicyEngine {
  private policies: StoredPolicyLike[] = [];
  private rejected: string[] = [];
  private readonly cookies = new Map<string, number>();
  private readonly refsByCookie = new Map<number, PolicyRef[]>();
  private readonly auditEndpoints = new Set<string>();
  private compiled = new Map<string, { endpoint: PolicyEndpointInput; compiled: CompiledEndpoint }>();
  private records = '';

  constructor(
    private auditAll: boolean,
    private readonly log: (message: string) => void,
  ) {}

  /** Replaces the policy set; true when it changed. A record that does not parse is skipped and named. */
  setRecords(records: PolicyRecord[]): boolean {
    const fingerprint = JSON.stringify(records.map((r) => [r.kind, r.namespace, r.name, r.revision]).sort());
    if (fingerprint === this.records) return false;
    this.records = fingerprint;
    const policies: StoredPolicyLike[] = [];
    const rejected: string[] = [];
    for (const record of records) {
      try {
        for (const p of parsePolicies(record.text, record.file))
          policies.push({ ...p, revision: record.revision });
      } catch (err) {
        rejected.push(err instanceof PolicyError ? err.message : String(err));
      }
    }
    for (const r of rejected) if (!this.rejected.includes(r)) this.log(`policy: ignored: ${r}`);
    this.policies = policies;
    this.rejected = rejected;
    return true;
  }

  setAudit(enabled: boolean, endpoint?: string): void {
    if (endpoint === undefined) this.auditAll = enabled;
    else if (enabled) this.auditEndpoints.add(endpoint);
    else this.auditEndpoints.delete(endpoint);
  }

  private audited(endpoint: string): boolean {
    return this.auditAll || this.auditEndpoints.has(endpoint);
  }

  private cookieOf(refs: PolicyRef[]): number {
    if (refs.length === 0) return 0;
    const key = JSON.stringify(refs);
    let cookie = this.cookies.get(key);
    if (cookie === undefined) {
      cookie = this.cookies.size + 1;
      this.cookies.set(key, cookie);
      this.refsByCookie.set(cookie, refs);
    }
    return cookie;
  }

  /** The policies a verdict's cookie names (empty for implicit entries and default deny). */
  attribution(cookie: number): PolicyRef[] {
    return this.refsByCookie.get(cookie) ?? [];
  }

  /** The policies that demand encryption for traffic to the endpoint behind a veth. */
  encryptionBy(interfaceName: string): PolicyRef[] {
    for (const { endpoint, compiled } of this.compiled.values())
      if (endpoint.interface === interfaceName) return compiled.requireEncryption;
    return [];
  }

  /** The policies that switched default deny on for the endpoint behind a veth (named on a default deny). */
  enforcedBy(interfaceName: string, direction: 'ingress' | 'egress'): PolicyRef[] {
    for (const { endpoint, compiled } of this.compiled.values())
      if (endpoint.interface === interfaceName) return compiled[direction].enforcedBy;
    return [];
  }

  /** Compiles every local endpoint against every identity of the cluster. */
  program(all: PolicyEndpointInput[], local: PolicyEndpointInput[]): EndpointPolicyProgram[] {
    const identities = new Map<number, IdentityInfo>(RESERVED_IDENTITIES.map((i) => [i.id, i]));
    for (const ep of all)
      if (ep.identity !== undefined && !identities.has(ep.identity))
        identities.set(ep.identity, { id: ep.identity, labels: podIdentityLabels(ep.namespace, ep.labels) });
    const list = [...identities.values()];
    const out: EndpointPolicyProgram[] = [];
    this.compiled = new Map();
    for (const ep of local) {
      const name = `${ep.namespace}/${ep.pod}`;
      const compiled = compileEndpoint(podIdentityLabels(ep.namespace, ep.labels), this.policies, list);
      this.compiled.set(name, { endpoint: ep, compiled });
      const audit = this.audited(name);
      const flags = endpointFlags(compiled, audit);
      if (flags === 0 && compiled.entries.length === 0) continue; // no policy selects it: nothing to look up
      const entries = compiled.entries.map((entry) => ({ entry, cookie: this.cookieOf(entry.policies) }));
      out.push({ interface: ep.interface, flags, generation: policyGeneration(flags, entries), entries });
    }
    return out;
  }

  status(): PolicyEngineStatus {
    const dir = (d: CompiledEndpoint['ingress']) => ({
      active: d.active,
      enforced: d.enforced,
      enforcedBy: d.enforcedBy.map(refName),
    });
    return {
      revision: Math.max(0, ...this.policies.map((p) => p.revision)),
      policies: this.policies.map((p) => ({
        kind: p.kind,
        namespace: p.namespace,
        name: p.name,
        revision: p.revision,
      })),
      rejected: this.rejected,
      auditMode: this.auditAll,
      auditEndpoints: [...this.auditEndpoints].sort(),
      endpoints: [...this.compiled.entries()].map(([name, { endpoint, compiled }]) => ({
        endpoint: name,
        interface: endpoint.interface,
        ingress: dir(compiled.ingress),
        egress: dir(compiled.egress),
        audit: this.audited(name),
        requireEncryption: compiled.requireEncryption.map(refName),
        entries: compiled.entries.length,
      })),
    };
  }
}
