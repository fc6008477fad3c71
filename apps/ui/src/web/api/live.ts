// The live socket: the only module that touches socket.io. Stores subscribe through it; every
// batch is acknowledged after the store took it, which gives the server back one batch of credit
// (its backpressure). Rows arrive as one binary JSON array per batch, parsed here in one call.
import { io, type Socket } from 'socket.io-client';
import type {
  ClientToServer,
  FlowBatch,
  ServerToClient,
  StatusResponse,
  SubscribeAck,
} from '../../server/index.js';
import type { FlowView } from '../../shared/flow-fields.js';

export type ConnectionState = 'connecting' | 'receiving' | 'reconnecting' | 'idle';

/** A batch with its rows parsed: live rows, the part of each flow the screens read. */
export interface LiveBatch extends Omit<FlowBatch, 'rows' | 'count'> {
  flows: FlowView[];
}

const utf8 = new TextDecoder();

export interface LiveHandlers {
  batch(batch: LiveBatch): void;
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
    this.socket.on('flows', ({ rows, skipped, lost, nodeStatus }, ack) => {
      const flows = JSON.parse(utf8.decode(rows)) as FlowView[];
      handlers.batch({ flows, skipped, lost, nodeStatus });
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
