// The relay's gRPC server (Observer + Wirescope services) on TCP 4245 and optionally a unix socket.
import { rmSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { GetFlowsRequest, GetHandshakesRequest } from '@wirescope/flow';
import { grpcSink, observerService, serverCredentials, serviceDefinition, toStatusError, wirescopeService, type ServerTlsFiles } from '@wirescope/observer';
import type { Relay } from './relay.js';

/** One flow per gRPC message, as Hubble's clients expect, but many messages per HTTP/2 write. */
const relaySinkLimits = { inflightHigh: 512, inflightLow: 128, coalesce: true };

export interface RelayServerOptions {
  relay: Relay;
  listen: string[];
  tls?: ServerTlsFiles | undefined;
}

function unaryHandler<T>(fn: () => Promise<T>) {
  return (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
    fn().then(
      (v) => cb(null, v),
      (err: unknown) => cb(toStatusError(err) as grpc.ServiceError),
    );
  };
}

export class RelayServer {
  readonly server = new grpc.Server({ 'grpc.max_send_message_length': 16 * 1024 * 1024 });
  private bound: string[] = [];

  constructor(private readonly opts: RelayServerOptions) {
    const relay = opts.relay;
    this.server.addService(serviceDefinition(observerService, { rawResponses: ['GetFlows'] }), {
      GetFlows: (call: grpc.ServerWritableStream<GetFlowsRequest, Uint8Array>) => {
        relay.getFlows(call.request, grpcSink(call, relaySinkLimits)).catch((err: unknown) => call.emit('error', toStatusError(err)));
      },
      ServerStatus: unaryHandler(() => relay.status()),
      GetNodes: unaryHandler(() => relay.nodes()),
      GetNamespaces: unaryHandler(() => relay.namespaces()),
      GetAgentEvents: (call: grpc.ServerWritableStream<unknown, unknown>) => {
        call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'GetAgentEvents is not served by the Wirescope relay' });
      },
      GetDebugEvents: (call: grpc.ServerWritableStream<unknown, unknown>) => {
        call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'GetDebugEvents is not served by the Wirescope relay' });
      },
    });
    this.server.addService(serviceDefinition(wirescopeService), {
      EncryptionStatus: unaryHandler(() => relay.encryptionStatus()),
      GetHandshakes: (call: grpc.ServerWritableStream<GetHandshakesRequest, unknown>) => {
        relay.handshakes(
          call.request,
          (r) => call.write(r),
          () => call.end(),
          (l) => call.on('cancelled', l),
        );
      },
    });
  }

  async start(): Promise<string[]> {
    const creds = serverCredentials(this.opts.tls);
    for (const addr of this.opts.listen) {
      const target = addr.startsWith('unix://') ? `unix:${addr.slice(7)}` : addr;
      if (target.startsWith('unix:')) rmSync(target.slice(5), { force: true });
      const port = await new Promise<number>((resolve, reject) =>
        this.server.bindAsync(target, creds, (err, p) => (err ? reject(new Error(`cannot listen on ${addr}: ${err.message}`)) : resolve(p))),
      );
      this.bound.push(target.startsWith('unix:') ? `unix://${target.slice(5)}` : target.replace(/:0$/, `:${port}`));
    }
    const servers = (this.server as unknown as { http2Servers?: Map<import('node:net').Server, unknown> }).http2Servers;
    for (const srv of servers?.keys() ?? []) {
      srv.on('connection', (s: import('node:net').Socket) => s.setNoDelay?.(true));
      srv.on('secureConnection', (s: import('node:net').Socket) => s.setNoDelay?.(true));
    }
    return [...this.bound];
  }

  async stop(graceMs = 500): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
