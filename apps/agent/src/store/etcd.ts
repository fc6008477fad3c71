import { Etcd3, type Lease, type Watcher } from 'etcd3';
import { ExponentialBackoff } from 'cockatiel';
import { AgentError, AgentErrorCode } from '../errors.js';
import type { ClusterStore, EndpointRecord, NodeRecord, PolicyRecord, Unsubscribe } from './types.js';
import {
  FIRST_ALLOCATED_IDENTITY,
  LAST_ALLOCATED_IDENTITY,
  canonicalLabels,
  reservedIdentityFor,
} from './identity.js';

/**
 * Key layout, one place: /wirescope/{nodes,alive,endpoints,identities}/…. A node's record is
 * permanent (membership: removed only on purpose); its agent's liveness is a separate key under a
 * lease, so an agent that stops renewing makes its node stale, never absent.
 */
export const KEYS = {
  nodes: '/wirescope/nodes/',
  aliveNodes: '/wirescope/alive/',
  endpoints: '/wirescope/endpoints/',
  policies: '/wirescope/policies/',
  identityByLabels: '/wirescope/identities/by-labels/',
  identityById: '/wirescope/identities/by-id/',
  node: (name: string) => `/wirescope/nodes/${name}`,
  alive: (name: string) => `/wirescope/alive/${name}`,
  endpoint: (namespace: string, pod: string) => `/wirescope/endpoints/${namespace}/${pod}`,
  /** cnp/<namespace>/<name> or ccnp/<name> */
  policy: (kind: string, namespace: string, name: string) =>
    kind === 'CiliumClusterwideNetworkPolicy'
      ? `/wirescope/policies/ccnp/${name}`
      : `/wirescope/policies/cnp/${namespace}/${name}`,
};

export interface EtcdStoreOptions {
  endpoints: string[];
  leaseTTLSeconds?: number;
  /** Per-call deadline so that an unreachable etcd fails fast instead of hanging a resync. */
  callTimeoutMs?: number;
  log?: (message: string) => void;
}

export class EtcdClusterStore implements ClusterStore {
  private readonly client: Etcd3;
  private readonly leaseTTL: number;
  private readonly log: (message: string) => void;
  private lease: Lease | undefined;
  private registered: NodeRecord | undefined;
  private closed = false;

  constructor(options: EtcdStoreOptions) {
    const timeout = options.callTimeoutMs ?? 3000;
    this.leaseTTL = options.leaseTTLSeconds ?? 15;
    this.log = options.log ?? (() => {});
    this.client = new Etcd3({
      hosts: options.endpoints,
      dialTimeout: timeout,
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
      faultHandling: {
        // Reconnect watches quickly after an etcd restart; the agent's periodic resync is the backstop.
        watchBackoff: new ExponentialBackoff({ initialDelay: 200, maxDelay: 2000 }) as never,
      },
    });
  }

  async registerNode(node: NodeRecord): Promise<void> {
    this.registered = node;
    await this.client.put(KEYS.node(node.name)).value(JSON.stringify(node));
    if (!this.lease) this.lease = this.newLease();
    await this.lease.put(KEYS.alive(node.name)).value(JSON.stringify({ since: new Date().toISOString() }));
  }

  /** A lease that, when lost (etcd down longer than the TTL), is replaced and liveness republished. */
  private newLease(): Lease {
    const lease = this.client.lease(this.leaseTTL);
    lease.on('lost', (err) => {
      if (this.lease !== lease) return;
      this.lease = undefined;
      this.log(`store: liveness lease lost (${err.message}); will re-register`);
    });
    return lease;
  }

  /**
   * Re-publishes this node if its lease was lost, its liveness key vanished or its record was
   * removed or changed while the agent runs (a live agent re-registers, as a kubelet does);
   * called by the agent's resync.
   */
  async ensureRegistered(): Promise<boolean> {
    if (!this.registered || this.closed) return false;
    const name = this.registered.name;
    const [record, alive] = await Promise.all([
      this.client.get(KEYS.node(name)).string(),
      this.client.get(KEYS.alive(name)).string(),
    ]);
    if (this.lease && alive !== null && record === JSON.stringify(this.registered)) return false;
    if (this.lease && alive === null) {
      // our lease lives on but the key is gone: someone deleted it; claim it anew
      const old = this.lease;
      this.lease = undefined;
      await old.revoke().catch(() => {});
    }
    await this.registerNode(this.registered);
    return true;
  }

  async listNodes(): Promise<NodeRecord[]> {
    const all = await this.client.getAll().prefix(KEYS.nodes).strings();
    return Object.values(all).flatMap((text) => parseRecord<NodeRecord>(text, isNodeRecord));
  }

  /** Names of the nodes whose agent holds its liveness lease right now. */
  async liveNodeNames(): Promise<Set<string>> {
    const keys = await this.client.getAll().prefix(KEYS.aliveNodes).keys();
    return new Set(keys.map((key) => key.slice(KEYS.aliveNodes.length)));
  }

  watchNodes(onChange: () => void): Unsubscribe {
    const stops = [this.watchPrefix(KEYS.nodes, onChange), this.watchPrefix(KEYS.aliveNodes, onChange)];
    return () => stops.forEach((stop) => stop());
  }

  async putEndpoint(endpoint: EndpointRecord): Promise<void> {
    await this.client.put(KEYS.endpoint(endpoint.namespace, endpoint.pod)).value(JSON.stringify(endpoint));
  }

  async deleteEndpoint(namespace: string, pod: string): Promise<void> {
    await this.client.delete().key(KEYS.endpoint(namespace, pod));
  }

  async listEndpoints(): Promise<EndpointRecord[]> {
    const all = await this.client.getAll().prefix(KEYS.endpoints).strings();
    return Object.values(all).flatMap((text) => parseRecord<EndpointRecord>(text, isEndpointRecord));
  }

  watchEndpoints(onChange: () => void): Unsubscribe {
    return this.watchPrefix(KEYS.endpoints, onChange);
  }

  async putPolicy(policy: Omit<PolicyRecord, 'revision'>): Promise<{ revision: number; changed: boolean }> {
    const key = KEYS.policy(policy.kind, policy.namespace, policy.name);
    const current = await this.client.get(key).exec();
    const kv = current.kvs[0];
    const old = kv
      ? parseRecord<Omit<PolicyRecord, 'revision'>>(kv.value.toString(), isPolicyRecord)[0]
      : undefined;
    if (kv && old && old.text === policy.text) return { revision: Number(kv.mod_revision), changed: false };
    const put = await this.client.put(key).value(JSON.stringify(policy)).exec();
    return { revision: Number(put.header.revision), changed: true };
  }

  async deletePolicy(kind: string, namespace: string, name: string): Promise<boolean> {
    const res = await this.client
      .delete()
      .key(KEYS.policy(kind, namespace, name))
      .exec();
    return Number(res.deleted) > 0;
  }

  /** Every policy, with its revision: the etcd revision of its last change. */
  async listPolicies(): Promise<PolicyRecord[]> {
    const res = await this.client.getAll().prefix(KEYS.policies).exec();
    return res.kvs.flatMap((kv) =>
      parseRecord<Omit<PolicyRecord, 'revision'>>(kv.value.toString(), isPolicyRecord).map((p) => ({
        ...p,
        revision: Number(kv.mod_revision),
      })),
    );
  }

  watchPolicies(onChange: () => void): Unsubscribe {
    return this.watchPrefix(KEYS.policies, onChange);
  }

  /** Removes a node from the cluster on purpose (decommission): its record and its liveness. */
  async deleteNode(name: string): Promise<void> {
    await this.client.delete().key(KEYS.node(name));
    await this.client.delete().key(KEYS.alive(name));
  }

  async allocateIdentity(labels: Record<string, string>): Promise<number> {
    const reserved = reservedIdentityFor(labels);
    if (reserved !== undefined) return reserved;
    const canonical = canonicalLabels(labels);
    const labelsKey = KEYS.identityByLabels + canonical;
    for (let attempt = 0; attempt < 64; attempt++) {
      const existing = await this.client.get(labelsKey).string();
      if (existing !== null) return Number(existing);
      const candidate = await this.lowestFreeIdentity();
      // Compare-and-swap: both the label set and the number must still be unclaimed, so two
      // agents racing for the same labels (or the same number) cannot both win.
      const result = await this.client
        .if(labelsKey, 'Version', '==', 0)
        .and(KEYS.identityById + candidate, 'Version', '==', 0)
        .then(
          this.client.put(labelsKey).value(String(candidate)),
          this.client.put(KEYS.identityById + candidate).value(canonical),
        )
        .commit();
      if (result.succeeded) return candidate;
    }
    throw new AgentError(
      AgentErrorCode.STORE_UNAVAILABLE,
      `identity allocation for "${canonical}" kept conflicting`,
    );
  }

  private async lowestFreeIdentity(): Promise<number> {
    const taken = new Set(
      (await this.client.getAll().prefix(KEYS.identityById).keys()).map((key) =>
        Number(key.slice(KEYS.identityById.length)),
      ),
    );
    for (let id = FIRST_ALLOCATED_IDENTITY; id <= LAST_ALLOCATED_IDENTITY; id++) {
      if (!taken.has(id)) return id;
    }
    throw new AgentError(AgentErrorCode.IDENTITY_EXHAUSTED, 'no free security identity left (256..65535)');
  }

  async ping(): Promise<void> {
    await this.client.maintenance.status();
  }

  private watchPrefix(prefix: string, onChange: () => void): Unsubscribe {
    let watcher: Watcher | undefined;
    let cancelled = false;
    this.client
      .watch()
      .prefix(prefix)
      .create()
      .then((w) => {
        if (cancelled) {
          void w.cancel();
          return;
        }
        watcher = w;
        w.on('put', () => onChange());
        w.on('delete', () => onChange());
        w.on('connected', () => onChange());
        w.on('error', (err) => this.log(`store: watch ${prefix}: ${err.message}`));
      })
      .catch((err: unknown) => this.log(`store: cannot watch ${prefix}: ${String(err)}`));
    return () => {
      cancelled = true;
      void watcher?.cancel();
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    // Release without revoking: a quick restart does not even show as stale to the other nodes.
    this.lease?.release();
    this.client.close();
  }
}

function parseRecord<T>(text: string, guard: (value: unknown) => value is T): T[] {
  try {
    const value: unknown = JSON.parse(text);
    return guard(value) ? [value] : [];
  } catch {
    return [];
  }
}

function isNodeRecord(value: unknown): value is NodeRecord {
  const v = value as Partial<NodeRecord> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.name === 'string' &&
    typeof v.underlayIP === 'string' &&
    typeof v.podCIDR === 'string' &&
    typeof v.wireguardPublicKey === 'string' &&
    typeof v.wireguardPort === 'number'
  );
}

function isEndpointRecord(value: unknown): value is EndpointRecord {
  const v = value as Partial<EndpointRecord> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.namespace === 'string' &&
    typeof v.pod === 'string' &&
    typeof v.node === 'string' &&
    typeof v.ip === 'string' &&
    typeof v.labels === 'object' &&
    (v.netns === undefined || typeof v.netns === 'string')
  );
}

function isPolicyRecord(value: unknown): value is Omit<PolicyRecord, 'revision'> {
  const v = value as Partial<PolicyRecord> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.kind === 'string' &&
    typeof v.name === 'string' &&
    typeof v.namespace === 'string' &&
    typeof v.text === 'string' &&
    typeof v.file === 'string'
  );
}
