// socket.io on the same server: `subscribe` {filters} starts (or replaces) a socket's live flows
// (batches in `flows`, each acknowledged by the browser); `status` is pushed to every socket each
// second so a node going away shows within the 5 s the Health banner promises.
import type { FastifyPluginAsync } from 'fastify';
import { Server as SocketServer, type Socket } from 'socket.io';
import { LiveHub, defaultLiveLimits, type FlowBatch, type LiveLimits } from '../live-hub.js';
import type { RelayApi } from '../relay-client.js';
import { UiError } from '../errors.js';
import { readStatus, type StatusResponse } from './status.js';

export interface SubscribeRequest {
  filters: string[];
}

export type SubscribeAck = { ok: true } | { ok: false; error: { code: string; message: string } };

/** The socket.io events, as the browser's api/ layer types them. */
export interface ServerToClient {
  flows(batch: FlowBatch, ack: () => void): void;
  status(status: StatusResponse | { error: { code: string; message: string } }): void;
  'stream-error'(error: { code: string; message: string }): void;
}

export interface ClientToServer {
  subscribe(request: SubscribeRequest, ack: (result: SubscribeAck) => void): void;
  unsubscribe(): void;
}

export interface LiveOptions {
  relay: RelayApi;
  limits?: LiveLimits;
  statusIntervalMs?: number;
}

function errorBody(err: unknown): { code: string; message: string } {
  if (err instanceof UiError) return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

declare module 'fastify' {
  interface FastifyInstance {
    live: { io: SocketServer<ClientToServer, ServerToClient>; hub: LiveHub };
  }
}

export const livePlugin: FastifyPluginAsync<LiveOptions> = async (app, opts) => {
  const io = new SocketServer<ClientToServer, ServerToClient>(app.server, {
    path: '/socket.io',
    serveClient: false,
    // a batch of 500 flows is well under this; a client may not send big messages at all
    maxHttpBufferSize: 64 * 1024,
  });
  const hub = new LiveHub(opts.relay, opts.limits ?? defaultLiveLimits);
  app.decorate('live', { io, hub });

  let poll: NodeJS.Timeout | undefined;
  const pollStatus = async () => {
    if (io.engine.clientsCount === 0) return;
    try {
      io.emit('status', await readStatus(opts.relay));
    } catch (err) {
      io.emit('status', { error: errorBody(err) });
    }
  };
  poll = setInterval(() => void pollStatus(), opts.statusIntervalMs ?? 1000);
  poll.unref();

  io.on('connection', (socket: Socket<ClientToServer, ServerToClient>) => {
    let unsubscribe: (() => void) | undefined;
    const stop = () => {
      unsubscribe?.();
      unsubscribe = undefined;
    };
    socket.on('subscribe', (request, ack) => {
      stop();
      const filters = Array.isArray(request?.filters) ? request.filters.map(String) : [];
      try {
        unsubscribe = hub.subscribe(filters, {
          send: (batch: FlowBatch, acknowledged: () => void) => {
            // a socket that went away acknowledges nothing: drop it instead of waiting
            if (!socket.connected) return;
            socket.emit('flows', batch, acknowledged);
          },
          error: (err) => socket.emit('stream-error', errorBody(err)),
        });
        if (typeof ack === 'function') ack({ ok: true });
      } catch (err) {
        if (typeof ack === 'function') ack({ ok: false, error: errorBody(err) });
      }
    });
    socket.on('unsubscribe', stop);
    socket.on('disconnect', stop);
    void pollStatus();
  });

  app.addHook('onClose', async () => {
    clearInterval(poll);
    poll = undefined;
    hub.close();
    await io.close();
  });
};

// not encapsulated (what fastify-plugin does): app.live is visible to the app and its tests
(livePlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
