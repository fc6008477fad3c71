// GetNamespaces without decoding the ring: the newest ring position of every "cluster/namespace"
// a flow named, noted as flows go in (or, for flows pushed as bytes, when GetNamespaces asks).
import { create } from '@bufbuild/protobuf';
import { NamespaceSchema, type Endpoint, type Flow, type FlowRecord, type Namespace } from '@wirescope/flow';

/** "cluster/namespace" of shared (frozen) endpoint messages. */
const namespaceKeys = new WeakMap<Endpoint, string>();

export class NamespaceIndex {
  private readonly newestSeq = new Map<string, number>();

  /** `clusterName`: the cluster of endpoints that name none. */
  constructor(private readonly clusterName: string) {}

  /** A record's endpoints are shared FlowEndpoints: their keys are cached on them, not built per flow. */
  noteRecord(record: FlowRecord, seq: number): void {
    if (record.source?.message.namespace) this.note(record.source.namespaceKey(this.clusterName), seq);
    if (record.destination?.message.namespace)
      this.note(record.destination.namespaceKey(this.clusterName), seq);
  }

  noteFlow(flow: Flow, seq: number): void {
    if (flow.source?.namespace) this.noteEndpoint(flow.source, seq);
    if (flow.destination?.namespace) this.noteEndpoint(flow.destination, seq);
  }

  private noteEndpoint(ep: Endpoint, seq: number): void {
    // the agent shares (frozen) endpoint messages between flows: their key is built once
    let key = Object.isFrozen(ep) ? namespaceKeys.get(ep) : undefined;
    if (key === undefined) {
      key = `${ep.clusterName || this.clusterName}/${ep.namespace}`;
      if (Object.isFrozen(ep)) namespaceKeys.set(ep, key);
    }
    this.note(key, seq);
  }

  private note(key: string, seq: number): void {
    // lazily noted entries (pushed as bytes) can be older than ones noted live
    if ((this.newestSeq.get(key) ?? -1) < seq) this.newestSeq.set(key, seq);
  }

  /** The namespaces noted at `oldestSeq` or later, sorted; older ones are forgotten. */
  list(oldestSeq: number): Namespace[] {
    const out: Namespace[] = [];
    for (const [key, seq] of this.newestSeq) {
      if (seq < oldestSeq) {
        this.newestSeq.delete(key);
        continue;
      }
      const slash = key.indexOf('/');
      out.push(create(NamespaceSchema, { cluster: key.slice(0, slash), namespace: key.slice(slash + 1) }));
    }
    return out.sort((a, b) => a.cluster.localeCompare(b.cluster) || a.namespace.localeCompare(b.namespace));
  }
}
