// The relay's gRPC server (Observer + Wirescope + grpc.health.v1) on TCP 4245 and optionally a unix socket.
import * as grpc from '@grpc/grpc-js';
import {
  ObserverHealth,
  addService,
  bindAll,
  grpcSink,
  methods,
  rawResponseMethods,
  serverCredentials,
  shutdown,
  toStatusError,
  type ServerTlsFiles,
} from '@wirescope/observer';
import type { Relay } from './relay.js';

/** One flow per gRPC message, as Hubble's clients expect, but many messages per HTTP/2 write. */
const relaySinkLimits = { inflightHigh: 512, inflightLow: 128, coalesce: true };

export interface RelayServerOptions {
  relay: Relay;
  listen: string[];
  tls?: ServerTlsFiles | undefined;
}

function unaryHandler<Request, Response>(
  fn: () => Promise<Response>,
): grpc.handleUnaryCall<Request, Response> {
  return (_call, cb) => {
    fn().then(
      (v) => cb(null, v),
      (err: unknown) => cb(toStatusError(err) as grpc.ServiceError),
    );
  };
}

export class RelayServer {
  readonly server = new grpc.Server({ 'grpc.max_send_message_length': 16 * 1024 * 1024 });
  /** SERVING while at least one node is connected: without one the relay has no flows to give. */
  readonly health = new ObserverHealth();
  private bound: string[] = [];
  private readonly updateHealth = () => this.health.setServing(this.opts.relay.peers.connected().length > 0);

  constructor(private readonly opts: RelayServerOptions) {
    const relay = opts.relay;
    this.health.addTo(this.server);
    this.updateHealth();
    relay.peers.on('state', this.updateHealth);
    relay.peers.on('removed', this.updateHealth);
    addService(
      this.server,
      { ...methods.observer, ...rawResponseMethods.observer },
      {
        getFlows: (call) => {
          relay
            .getFlows(call.request, grpcSink(call, relaySinkLimits))
            .catch((err: unknown) => call.emit('error', toStatusError(err)));
        },
        serverStatus: unaryHandler(() => relay.status()),
        getNodes: unaryHandler(() => relay.nodes()),
        getNamespaces: unaryHandler(() => relay.namespaces()),
        getAgentEvents: (call) => {
          call.emit('error', {
            code: grpc.status.UNIMPLEMENTED,
            details: 'GetAgentEvents is not served by the Wirescope relay',
          });
        },
        getDebugEvents: (call) => {
          call.emit('error', {
            code: grpc.status.UNIMPLEMENTED,
            details: 'GetDebugEvents is not served by the Wirescope relay',
          });
        },
      },
    );
    addService(this.server, methods.wirescope, {
      encryptionStatus: unaryHandler(() => relay.encryptionStatus()),
      getHandshakes: (call) => {
        relay.handshakes(
          call.request,
          (r) => call.write(r),
          () => call.end(),
          (l) => call.on('cancelled', l),
        );
      },
      // batches are how agents feed the relay; the relay's own clients read GetFlows
      getFlowBatches: (call) => {
        call.emit('error', {
          code: grpc.status.UNIMPLEMENTED,
          details: 'GetFlowBatches is not served by the Wirescope relay',
        });
      },
    });
  }

  async start(): Promise<string[]> {
    this.bound.push(...(await bindAll(this.server, this.opts.listen, serverCredentials(this.opts.tls))));
    return [...this.bound];
  }

  async stop(graceMs = 500): Promise<void> {
    this.opts.relay.peers.off('state', this.updateHealth);
    this.opts.relay.peers.off('removed', this.updateHealth);
    this.health.setServing(false);
    await shutdown(this.server, graceMs);
  }
}
