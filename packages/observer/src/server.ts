// The per-node gRPC server: Observer + Peer (+ Wirescope) on TCP and/or a unix socket.
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import {
  ChangeNotificationSchema,
  ChangeNotificationType,
  EncryptionStatusResponseSchema,
  GetHandshakesResponseSchema,
  GetNamespacesResponseSchema,
  GetNodesResponseSchema,
  type ChangeNotification,
  type NodeEncryptionStatus,
  type NotifyRequest,
} from '@wirescope/flow';
import { ObserverError } from './errors.js';
import type { Observer } from './observer.js';
import { PeerRegistry, type PeerChange } from './peers.js';
import { HandshakeLog } from './handshakes.js';
import { addService, methods, rawResponseMethods } from './services.js';
import { serverCredentials, type ServerTlsFiles } from './tls.js';
import { bindAll, shutdown } from './listen.js';
import { ObserverHealth } from './health.js';
import { batchingSink, grpcSink, type FlowBatchLimits, type GrpcSinkLimits } from './sinks.js';

export interface ObserverServerOptions {
  observer: Observer;
  /** Peers announced through Peer.Notify (the agent feeds it from the cluster store). */
  peers?: PeerRegistry;
  /** Handshake events and encryption status for the Wirescope service. */
  handshakes?: HandshakeLog;
  encryptionStatus?: () => NodeEncryptionStatus[];
  /** e.g. ["127.0.0.1:4244", "unix:///run/wirescope/hubble.sock"]; port 0 picks a free port. */
  listen: string[];
  tls?: ServerTlsFiles;
  /** Framing of GetFlowBatches (tests use small batches). */
  flowBatchLimits?: FlowBatchLimits;
  /** false: GetFlowBatches answers UNIMPLEMENTED, as an agent without it does (benchmarks compare). */
  flowBatches?: boolean;
}

export function toStatusError(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof ObserverError) return { code: err.grpcStatus, details: err.message };
  return { code: grpc.status.INTERNAL, details: err instanceof Error ? err.message : String(err) };
}

/** Batches are few and large: backpressure counts them, not the flows inside. */
const batchSinkLimits: GrpcSinkLimits = { inflightHigh: 16, inflightLow: 4 };

export class ObserverServer {
  readonly server = new grpc.Server({
    'grpc.keepalive_time_ms': 30_000,
    'grpc.max_send_message_length': 16 * 1024 * 1024,
  });
  readonly peers: PeerRegistry;
  readonly handshakes: HandshakeLog;
  /** NOT_SERVING until start() has bound every address, and again from stop(). */
  readonly health = new ObserverHealth();
  private bound: string[] = [];

  constructor(private readonly opts: ObserverServerOptions) {
    this.health.addTo(this.server);
    this.peers = opts.peers ?? new PeerRegistry();
    this.handshakes = opts.handshakes ?? opts.observer.handshakes;
    const observer = opts.observer;
    addService(
      this.server,
      { ...methods.observer, ...rawResponseMethods.observer },
      {
        getFlows: (call) => {
          // headers at once tell a (re)connecting follower it is being served before any new flow
          if (call.request.follow) call.sendMetadata(new grpc.Metadata());
          observer.getFlows(call.request, grpcSink(call)).catch((err: unknown) => {
            call.emit('error', toStatusError(err));
          });
        },
        getNodes: (_call, cb) => {
          cb(null, create(GetNodesResponseSchema, { nodes: [observer.node()] }));
        },
        getNamespaces: (_call, cb) => {
          cb(null, create(GetNamespacesResponseSchema, { namespaces: observer.namespaces() }));
        },
        serverStatus: (_call, cb) => {
          cb(null, observer.status());
        },
        getAgentEvents: (call) => {
          call.emit('error', {
            code: grpc.status.UNIMPLEMENTED,
            details: 'GetAgentEvents is not served by Wirescope',
          });
        },
        getDebugEvents: (call) => {
          call.emit('error', {
            code: grpc.status.UNIMPLEMENTED,
            details: 'GetDebugEvents is not served by Wirescope',
          });
        },
      },
    );
    addService(this.server, methods.peer, { notify: (call) => this.notify(call) });
    addService(
      this.server,
      { ...methods.wirescope, ...rawResponseMethods.wirescope },
      {
        getFlowBatches: (call) => {
          if (this.opts.flowBatches === false) {
            call.emit('error', {
              code: grpc.status.UNIMPLEMENTED,
              details: 'GetFlowBatches is turned off on this agent',
            });
            return;
          }
          observer
            .getFlows(call.request, batchingSink(grpcSink(call, batchSinkLimits), this.opts.flowBatchLimits))
            .catch((err: unknown) => {
              call.emit('error', toStatusError(err));
            });
        },
        encryptionStatus: (_call, cb) => {
          cb(null, create(EncryptionStatusResponseSchema, { nodes: this.opts.encryptionStatus?.() ?? [] }));
        },
        getHandshakes: (call) => {
          const req = call.request;
          const send = (ev: Parameters<HandshakeLog['push']>[0]) => {
            if (req.peerNode && ev.peerNode !== req.peerNode) return;
            call.write(
              create(GetHandshakesResponseSchema, { handshake: ev, nodeName: ev.nodeName, time: ev.time }),
            );
          };
          const recent = this.handshakes.recent(Number(req.number) || undefined, req.peerNode || undefined);
          for (const ev of recent) send(ev);
          if (!req.follow) {
            call.end();
            return;
          }
          const off = this.handshakes.subscribe(send);
          call.on('cancelled', off);
          call.on('close', off);
        },
      },
    );
  }

  private notify(call: grpc.ServerWritableStream<NotifyRequest, ChangeNotification>): void {
    const toMessage = (c: PeerChange) =>
      create(ChangeNotificationSchema, {
        name: c.peer.name,
        address: c.peer.address,
        type: c.type,
        tls: c.peer.tlsServerName ? { serverName: c.peer.tlsServerName } : undefined,
      });
    for (const peer of this.peers.list())
      call.write(toMessage({ type: ChangeNotificationType.PEER_ADDED, peer }));
    const onChange = (c: PeerChange) => call.write(toMessage(c));
    this.peers.on('change', onChange);
    const off = () => this.peers.off('change', onChange);
    call.on('cancelled', off);
    call.on('close', off);
    call.on('error', off);
  }

  /** Binds every listen address; resolves to the bound addresses (ports resolved). */
  async start(): Promise<string[]> {
    this.bound.push(...(await bindAll(this.server, this.opts.listen, serverCredentials(this.opts.tls))));
    this.health.setServing(true);
    return [...this.bound];
  }

  get addresses(): string[] {
    return [...this.bound];
  }

  /** Stops accepting calls; open streams are cancelled after graceMs. */
  async stop(graceMs = 500): Promise<void> {
    this.health.setServing(false);
    await shutdown(this.server, graceMs);
  }
}
