// The live socket: the only module that touches socket.io. Stores subscribe through it; every
// batch is acknowledged after the store took it, which is the server's backpressure signal.
import { io, type Socket } from 'socket.io-client';
import type {
  ClientToServer,
  FlowBatch,
  ServerToClient,
  StatusResponse,
  SubscribeAck,
} from '../../server/index.js';

export type ConnectionState = 'connecting' | 'receiving' | 'reconnecting' | 'idle';

export interface LiveHandlers {
  batch(batch: FlowBatch): void;
  status(status: StatusResponse | { error: { code: string; message: string } }): void;
  streamError(error: { code: string; message: string }): void;
  connection(state: ConnectionState): void;
}

export class LiveConnection {
  private readonly socket: Socket<ServerToClient, ClientToServer>;
  private filters: string[] | undefined;

  constructor(handlers: LiveHandlers) {
    this.socket = io({ path: '/socket.io', transports: ['websocket'] });
    handlers.connection('connecting');
    this.socket.on('connect', () => {
      handlers.connection('receiving');
      // a reconnect resubscribes: the server forgot this socket
      if (this.filters) void this.subscribe(this.filters);
    });
    this.socket.on('disconnect', () => handlers.connection('reconnecting'));
    this.socket.on('flows', (batch, ack) => {
      handlers.batch(batch);
      ack();
    });
    this.socket.on('status', (s) => handlers.status(s));
    this.socket.on('stream-error', (e) => handlers.streamError(e));
  }

  subscribe(filters: string[]): Promise<SubscribeAck> {
    this.filters = filters;
    return new Promise((resolve) => this.socket.emit('subscribe', { filters }, resolve));
  }

  unsubscribe(): void {
    this.filters = undefined;
    this.socket.emit('unsubscribe');
  }

  close(): void {
    this.socket.close();
  }
}
