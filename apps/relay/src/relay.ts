// The relay's Observer service: fans GetFlows out to every connected agent and merges by time,
// passing flow bytes through untouched; aggregates ServerStatus, GetNodes and GetNamespaces.
import * as grpc from '@grpc/grpc-js';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  EncryptionStatusResponseSchema,
  GetFlowsRequestSchema,
  GetFlowsResponseSchema,
  GetNamespacesResponseSchema,
  GetNodesResponseSchema,
  NodeSchema,
  NodeState,
  ServerStatusResponseSchema,
  forEachBatchedResponse,
  responseTimeMicros,
  type EncryptionStatusResponse,
  type GetFlowsRequest,
  type GetHandshakesRequest,
  type GetHandshakesResponse,
  type GetNamespacesResponse,
  type GetNodesResponse,
  type Namespace,
  type Node,
  type ServerStatusResponse,
} from '@wirescope/flow';
import { Observer, RawServerStream, methods, serverStream, unary, type FlowSink } from '@wirescope/observer';
import { Merger } from './merge.js';
import type { PeerConnection, PeerManager } from './peers.js';

export const relayVersion = 'wirescope-relay-0.1.0';

export interface RelayOptions {
  /** Drain window of the follow-mode merge (Hubble uses 1 s). */
  windowMs?: number;
  /** Items the merge holds before emitting regardless. */
  mergeCapacity?: number;
  /** Per-node items buffered before that node's stream is paused. */
  perNodeBuffer?: number;
  /** Deadline of the fan-out unary calls. */
  unaryTimeoutMs?: number;
}

function nowTimestamp() {
  const ms = Date.now();
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

function nodeStatus(state: NodeState, names: string[], message = ''): Uint8Array {
  return toBinary(
    GetFlowsResponseSchema,
    create(GetFlowsResponseSchema, {
      responseTypes: { case: 'nodeStatus', value: { stateChange: state, nodeNames: names, message } },
      time: nowTimestamp(),
    }),
  );
}

const getFlowsPath = methods.observer.getFlows.path;
const getFlowBatchesPath = methods.wirescope.getFlowBatches.path;

export interface RelayTraffic {
  requests: { follow: number; query: number };
  open: { follow: number; query: number };
  flowsSent: number;
}

export class Relay {
  private readonly startedAt = process.hrtime.bigint();
  /**
   * Agents (by connection: a reconnect may reach an upgraded or different agent) that answered
   * GetFlowBatches with UNIMPLEMENTED, e.g. stock Hubble: they are read through GetFlows.
   */
  private readonly withoutBatches = new WeakSet<grpc.Client>();
  /** GetFlows requests by mode (started, still open) and flows written to clients, for /metrics. */
  readonly traffic: RelayTraffic = {
    requests: { follow: 0, query: 0 },
    open: { follow: 0, query: 0 },
    flowsSent: 0,
  };

  constructor(
    readonly peers: PeerManager,
    private readonly opts: RelayOptions = {},
  ) {}

  /** Whether this peer's flows are read as FlowBatch streams (false once it said UNIMPLEMENTED). */
  readsBatches(peer: PeerConnection): boolean {
    return !!peer.client && !this.withoutBatches.has(peer.client);
  }

  /** Streams the merged flows of every node into sink; throws ObserverError for bad requests. */
  async getFlows(req: GetFlowsRequest, sink: FlowSink): Promise<void> {
    Observer.validate(req);
    const follow = req.follow;
    const mode = follow ? 'follow' : 'query';
    this.traffic.requests[mode]++;
    this.traffic.open[mode]++;
    const perNode = this.opts.perNodeBuffer ?? 512;
    const upstream = new Map<string, RawServerStream>();
    let finished = false;
    const merger: Merger = new Merger({
      windowMs: follow ? (this.opts.windowMs ?? 20) : Infinity,
      capacity: this.opts.mergeCapacity ?? 4096,
      emit: (bytes) => {
        this.traffic.flowsSent++;
        const ok = sink.write(bytes);
        if (!ok) {
          // after the last source ended, only this drain can empty the merge: finish here too
          sink.onDrain(() => {
            merger.resume();
            maybeFinish();
          });
        }
        return ok;
      },
    });
    const forwarded = create(GetFlowsRequestSchema, { ...req });
    const finish = () => {
      if (finished) return;
      finished = true;
      this.traffic.open[mode]--;
      this.peers.off('state', onPeerState);
      for (const call of upstream.values()) call.cancel();
      upstream.clear();
      merger.close();
      sink.end();
    };
    const maybeFinish = () => {
      if (!follow && merger.done) finish();
    };

    /** Nodes whose flows this request has asked for. */
    const joined = new Set<string>();
    const open = (peer: PeerConnection, request: GetFlowsRequest) => {
      const client = peer.client;
      if (!client) return;
      const name = peer.name;
      joined.add(name);
      merger.addSource(name);
      const batched = !this.withoutBatches.has(client);
      let received = false;
      let paused = false;
      const pushResponse = (bytes: Buffer) => merger.push(name, responseTimeMicros(bytes), bytes);
      const onMessage = (bytes: Buffer) => {
        received = true;
        if (batched) forEachBatchedResponse(bytes, pushResponse);
        else pushResponse(bytes);
        if (!paused && merger.sourceLength(name) >= perNode) {
          paused = true;
          call.pause();
          merger.onceBelow(name, perNode >> 1, () => {
            paused = false;
            if (!finished) call.resume();
          });
        }
      };
      const onStatus = (code: grpc.status, details: string) => {
        if (upstream.get(name) !== call) return;
        upstream.delete(name);
        if (batched && code === grpc.status.UNIMPLEMENTED && !received && !finished) {
          // an agent without the Wirescope batch stream: the same request over GetFlows
          this.withoutBatches.add(client);
          open(peer, request);
          return;
        }
        merger.endSource(name);
        if (code === grpc.status.OK) {
          maybeFinish();
          return;
        }
        if (code === grpc.status.INVALID_ARGUMENT) {
          // every node would say the same; the relay validated the request, so this is rare
          if (!finished) sink.write(nodeStatus(NodeState.NODE_ERROR, [name], details));
          maybeFinish();
          return;
        }
        if (!finished) {
          const unavailable = code === grpc.status.UNAVAILABLE || peer.state !== 'connected';
          sink.write(
            nodeStatus(unavailable ? NodeState.NODE_UNAVAILABLE : NodeState.NODE_ERROR, [name], details),
          );
        }
        maybeFinish();
      };
      const path = batched ? getFlowBatchesPath : getFlowsPath;
      const call: RawServerStream = new RawServerStream(
        client,
        path,
        toBinary(GetFlowsRequestSchema, request),
        { onMessage, onStatus },
      );
      upstream.set(name, call);
    };

    const onPeerState = (peer: PeerConnection, state: string, message: string) => {
      if (finished || !follow) return;
      if (state === 'connected' && !upstream.has(peer.name)) {
        sink.write(nodeStatus(NodeState.NODE_CONNECTED, [peer.name]));
        // A node that comes back mid-stream contributes new flows only. One joining for the first
        // time keeps the request's since: a follower resuming at a relay that just restarted (and
        // has not reached its agents yet) asked for everything since its last flow, of every node.
        const since = joined.has(peer.name) ? undefined : req.since;
        open(peer, create(GetFlowsRequestSchema, { ...req, number: 0n, first: false, since }));
      } else if (state === 'unavailable') {
        const call = upstream.get(peer.name);
        if (!call) return; // its stream already failed and was reported
        upstream.delete(peer.name);
        call.cancel();
        merger.endSource(peer.name);
        sink.write(nodeStatus(NodeState.NODE_UNAVAILABLE, [peer.name], message));
      }
    };

    sink.onCancel(finish);
    const connected = this.peers.connected();
    const unavailable = this.peers.unavailable();
    if (connected.length)
      sink.write(
        nodeStatus(
          NodeState.NODE_CONNECTED,
          connected.map((p) => p.name),
        ),
      );
    if (unavailable.length) {
      sink.write(
        nodeStatus(
          NodeState.NODE_UNAVAILABLE,
          unavailable.map((p) => p.name),
          unavailable
            .map((p) => p.lastError)
            .filter(Boolean)
            .join('; '),
        ),
      );
    }
    if (follow) this.peers.on('state', onPeerState);
    for (const peer of connected) open(peer, forwarded);
    if (connected.length === 0) maybeFinish();
  }

  private async fanOut<T>(
    call: (client: grpc.Client, peer: PeerConnection) => Promise<T>,
  ): Promise<{ peer: PeerConnection; value?: T; error?: string }[]> {
    const timeout = this.opts.unaryTimeoutMs ?? 3000;
    return Promise.all(
      this.peers.connected().map(async (peer) => {
        try {
          return { peer, value: await Promise.race([call(peer.client!, peer), rejectAfter<T>(timeout)]) };
        } catch (err) {
          return { peer, error: (err as Error).message };
        }
      }),
    );
  }

  async status(): Promise<ServerStatusResponse> {
    const results = await this.fanOut((c) =>
      unary(c, methods.observer.serverStatus, {}, { deadlineMs: this.opts.unaryTimeoutMs ?? 3000 }),
    );
    const out = create(ServerStatusResponseSchema, { version: relayVersion });
    let connected = 0;
    const unavailable = new Set(this.peers.unavailable().map((p) => p.name));
    for (const r of results) {
      if (!r.value) {
        unavailable.add(r.peer.name);
        continue;
      }
      connected++;
      out.numFlows += r.value.numFlows;
      out.maxFlows += r.value.maxFlows;
      out.seenFlows += r.value.seenFlows;
      out.flowsRate += r.value.flowsRate;
      if (r.value.uptimeNs > out.uptimeNs) out.uptimeNs = r.value.uptimeNs;
    }
    if (out.uptimeNs === 0n) out.uptimeNs = process.hrtime.bigint() - this.startedAt;
    out.numConnectedNodes = connected;
    out.numUnavailableNodes = unavailable.size;
    out.unavailableNodes = [...unavailable].sort();
    return out;
  }

  async nodes(): Promise<GetNodesResponse> {
    const results = await this.fanOut((c) =>
      unary(
        c,
        methods.observer.getNodes,
        {},
        {
          deadlineMs: this.opts.unaryTimeoutMs ?? 3000,
        },
      ),
    );
    const nodes: Node[] = [];
    for (const r of results) {
      const reported = r.value?.nodes[0];
      nodes.push(
        create(NodeSchema, {
          version: reported?.version ?? '',
          uptimeNs: reported?.uptimeNs ?? 0n,
          numFlows: reported?.numFlows ?? 0n,
          maxFlows: reported?.maxFlows ?? 0n,
          seenFlows: reported?.seenFlows ?? 0n,
          name: r.peer.name,
          address: r.peer.config.address,
          state: r.value ? NodeState.NODE_CONNECTED : NodeState.NODE_ERROR,
          tls: { enabled: r.peer.tlsEnabled, serverName: r.peer.config.tlsServerName ?? '' },
        }),
      );
    }
    for (const p of this.peers.unavailable()) {
      nodes.push(
        create(NodeSchema, {
          name: p.name,
          address: p.config.address,
          state: NodeState.NODE_UNAVAILABLE,
          tls: { enabled: p.tlsEnabled, serverName: p.config.tlsServerName ?? '' },
        }),
      );
    }
    nodes.sort((a, b) => a.name.localeCompare(b.name));
    return create(GetNodesResponseSchema, { nodes });
  }

  async namespaces(): Promise<GetNamespacesResponse> {
    const results = await this.fanOut((c) =>
      unary(c, methods.observer.getNamespaces, {}, { deadlineMs: this.opts.unaryTimeoutMs ?? 3000 }),
    );
    const seen = new Map<string, Namespace>();
    for (const r of results)
      for (const ns of r.value?.namespaces ?? []) seen.set(`${ns.cluster}/${ns.namespace}`, ns);
    const namespaces = [...seen.values()].sort(
      (a, b) => a.cluster.localeCompare(b.cluster) || a.namespace.localeCompare(b.namespace),
    );
    return create(GetNamespacesResponseSchema, { namespaces });
  }

  async encryptionStatus(): Promise<EncryptionStatusResponse> {
    const results = await this.fanOut((c) =>
      unary(c, methods.wirescope.encryptionStatus, {}, { deadlineMs: this.opts.unaryTimeoutMs ?? 3000 }),
    );
    const nodes = results
      .flatMap((r) => r.value?.nodes ?? [])
      .sort((a, b) => a.nodeName.localeCompare(b.nodeName));
    return create(EncryptionStatusResponseSchema, { nodes });
  }

  /** Recent handshakes of every node, oldest first (follow: passed through as they come). */
  handshakes(
    req: GetHandshakesRequest,
    write: (r: GetHandshakesResponse) => void,
    end: () => void,
    onCancel: (l: () => void) => void,
  ): void {
    const calls = this.peers
      .connected()
      .map((p) => serverStream(p.client!, methods.wirescope.getHandshakes, req));
    const collected: GetHandshakesResponse[] = [];
    let open = calls.length;
    const done = () => {
      if (--open > 0) return;
      if (!req.follow) {
        collected.sort(
          (a, b) =>
            Number(a.time?.seconds ?? 0n) - Number(b.time?.seconds ?? 0n) ||
            (a.time?.nanos ?? 0) - (b.time?.nanos ?? 0),
        );
        const n = Number(req.number);
        for (const r of n ? collected.slice(-n) : collected) write(r);
      }
      end();
    };
    for (const call of calls) {
      call.on('data', (r: GetHandshakesResponse) => (req.follow ? write(r) : collected.push(r)));
      call.on('error', done);
      call.on('end', done);
    }
    onCancel(() => calls.forEach((c) => c.cancel()));
    if (calls.length === 0) end();
  }
}

function rejectAfter<T>(ms: number): Promise<T> {
  return new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref(),
  );
}
