// One connection per agent with exponential reconnect backoff, and discovery through Peer.Notify
// (or a static list).
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { ChangeNotificationType, NotifyRequestSchema, type ChangeNotification } from '@wirescope/flow';
import {
  clientChannelOptions,
  clientCredentials,
  makeClient,
  methods,
  serverStream,
  type ClientTlsFiles,
} from '@wirescope/observer';
import { Backoff, RECONNECT_MAX_MS, type BackoffOptions } from './backoff.js';

export type PeerState = 'connecting' | 'connected' | 'unavailable';

export interface PeerConfig {
  name: string;
  address: string;
  tlsServerName?: string | undefined;
}

export interface PeerConnectionOptions {
  tls?: ClientTlsFiles | undefined;
  backoff?: BackoffOptions;
  /** How long one connection attempt may take. */
  connectTimeoutMs?: number;
  /** HTTP/2 receive window per agent stream (default 256 KiB). */
  windowBytes?: number;
}

const defaultAgentPort = 4244;

export function withDefaultPort(address: string): string {
  if (address.startsWith('unix:') || address.startsWith('/')) return address;
  if (/^\[.*\]:\d+$/.test(address) || /^[^:]+:\d+$/.test(address)) return address;
  if (address.includes(':') && !address.startsWith('[')) return `[${address}]:${defaultAgentPort}`;
  return `${address}:${defaultAgentPort}`;
}

export class PeerConnection extends EventEmitter<{ state: [PeerState, string] }> {
  state: PeerState = 'connecting';
  client: grpc.Client | undefined;
  lastError = '';
  connectedAt = 0;
  private readonly backoff: Backoff;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Bumped on every (re)connect so stale callbacks from an old channel are ignored. */
  private generation = 0;

  constructor(
    public config: PeerConfig,
    private readonly opts: PeerConnectionOptions = {},
  ) {
    super();
    this.backoff = new Backoff(opts.backoff);
  }

  get name(): string {
    return this.config.name;
  }

  get tlsEnabled(): boolean {
    return !!this.opts.tls;
  }

  /** Delay of the next reconnect attempt that is scheduled, for status and tests. */
  nextRetryMs = 0;

  start(): void {
    this.connect();
  }

  private setState(state: PeerState, message = ''): void {
    if (state === this.state && message === this.lastError) return;
    this.state = state;
    if (state === 'unavailable') this.lastError = message;
    this.emit('state', state, message);
  }

  private connect(): void {
    if (this.closed) return;
    const gen = ++this.generation;
    this.client?.close();
    const tls = this.opts.tls
      ? { ...this.opts.tls, serverName: this.config.tlsServerName ?? this.opts.tls.serverName }
      : undefined;
    let client: grpc.Client;
    try {
      client = makeClient(withDefaultPort(this.config.address), clientCredentials(tls), {
        ...clientChannelOptions(tls),
        // one connection per peer, never shared with other peers' or clients' channels
        'grpc.use_local_subchannel_pool': 1,
        'grpc.initial_reconnect_backoff_ms': 1000,
        'grpc.max_reconnect_backoff_ms': RECONNECT_MAX_MS,
        'grpc.max_receive_message_length': 16 * 1024 * 1024,
        // a 64 KiB HTTP/2 window holds ~100 flows (a round trip per 100 flows caps throughput);
        // much more than 1 MiB only queues flows and adds latency
        'grpc-node.flow_control_window': this.opts.windowBytes ?? 256 * 1024,
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
      });
    } catch (err) {
      this.fail(gen, (err as Error).message);
      return;
    }
    this.client = client;
    if (this.state !== 'connecting' && this.state !== 'unavailable') this.setState('connecting');
    client.waitForReady(Date.now() + (this.opts.connectTimeoutMs ?? 3000), (err) => {
      if (gen !== this.generation || this.closed) return;
      if (err) {
        this.fail(gen, `cannot connect to ${this.config.address}: ${err.message}`);
        return;
      }
      this.backoff.reset();
      this.connectedAt = Date.now();
      this.setState('connected');
      this.watch(gen, client);
    });
  }

  private watch(gen: number, client: grpc.Client): void {
    const channel = client.getChannel();
    const current = channel.getConnectivityState(false);
    channel.watchConnectivityState(current, Infinity, () => {
      if (gen !== this.generation || this.closed) return;
      const next = channel.getConnectivityState(false);
      if (next === grpc.connectivityState.READY) {
        this.watch(gen, client);
        return;
      }
      // READY -> IDLE / TRANSIENT_FAILURE / SHUTDOWN: the agent went away.
      this.fail(gen, `connection to ${this.config.address} lost`);
    });
  }

  private fail(gen: number, message: string): void {
    if (gen !== this.generation || this.closed) return;
    this.generation++;
    this.client?.close();
    this.client = undefined;
    this.setState('unavailable', message);
    this.nextRetryMs = this.backoff.next();
    this.retryTimer = setTimeout(() => this.connect(), this.nextRetryMs);
  }

  /** The agent moved: reconnect at once to the new address. */
  update(config: PeerConfig): void {
    if (config.address === this.config.address && config.tlsServerName === this.config.tlsServerName) return;
    this.config = config;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.backoff.reset();
    this.connect();
  }

  close(): void {
    this.closed = true;
    this.generation++;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.client?.close();
    this.client = undefined;
  }
}

export interface PeerManagerEvents {
  /** A peer's connection state changed (also fired for new peers). */
  state: [PeerConnection, PeerState, string];
  removed: [PeerConnection];
}

/** Keeps one PeerConnection per known agent. */
export class PeerManager extends EventEmitter<PeerManagerEvents> {
  readonly peers = new Map<string, PeerConnection>();
  /** The agent whose Peer.Notify stream discovery follows (or last tried). */
  discoveryAddress = '';
  private notifyClient: grpc.Client | undefined;
  private notifyCall: grpc.ClientReadableStream<ChangeNotification> | undefined;
  private notifyTimer: NodeJS.Timeout | undefined;
  private readonly notifyBackoff: Backoff;
  private closed = false;

  constructor(private readonly opts: PeerConnectionOptions = {}) {
    super();
    this.notifyBackoff = new Backoff(opts.backoff);
  }

  upsert(config: PeerConfig): void {
    const existing = this.peers.get(config.name);
    if (existing) {
      existing.update(config);
      return;
    }
    const conn = new PeerConnection(config, this.opts);
    conn.on('state', (state, message) => this.emit('state', conn, state, message));
    this.peers.set(config.name, conn);
    conn.start();
  }

  remove(name: string): void {
    const conn = this.peers.get(name);
    if (!conn) return;
    this.peers.delete(name);
    conn.close();
    this.emit('removed', conn);
  }

  connected(): PeerConnection[] {
    return [...this.peers.values()].filter((p) => p.state === 'connected');
  }

  unavailable(): PeerConnection[] {
    return [...this.peers.values()].filter((p) => p.state !== 'connected');
  }

  /** Follows Peer.Notify on `address` (an agent's Observer port), reconnecting with backoff. */
  /**
   * Follows Peer.Notify of one agent. With several addresses (any agent serves the whole peer
   * list, as Hubble's peer service does behind a Service), a failing stream moves on to the
   * next one, so discovery does not hinge on one node.
   */
  discover(addresses: string | readonly string[], tls?: ClientTlsFiles, attempt = 0): void {
    if (this.closed) return;
    const list = typeof addresses === 'string' ? [addresses] : addresses;
    if (list.length === 0) throw new Error('discover: no Peer.Notify address given');
    const address = list[attempt % list.length]!;
    this.discoveryAddress = address;
    this.notifyClient?.close();
    const client = makeClient(withDefaultPort(address), clientCredentials(tls), {
      ...clientChannelOptions(tls),
      'grpc.use_local_subchannel_pool': 1,
    });
    this.notifyClient = client;
    const call = serverStream(client, methods.peer.notify, create(NotifyRequestSchema));
    this.notifyCall = call;
    const retry = () => {
      if (this.closed || this.notifyCall !== call) return;
      this.notifyCall = undefined;
      // the next address at once; back off only once every address has failed in a row
      const next = attempt + 1;
      const delay = next % list.length === 0 ? this.notifyBackoff.next() : 0;
      this.notifyTimer = setTimeout(() => this.discover(list, tls, next), delay);
    };
    call.on('data', (change: ChangeNotification) => {
      this.notifyBackoff.reset();
      if (change.type === ChangeNotificationType.PEER_DELETED) this.remove(change.name);
      else if (change.name && change.address) {
        this.upsert({
          name: change.name,
          address: change.address,
          tlsServerName: change.tls?.serverName || undefined,
        });
      }
    });
    call.on('error', retry);
    call.on('end', retry);
  }

  close(): void {
    this.closed = true;
    if (this.notifyTimer) clearTimeout(this.notifyTimer);
    this.notifyCall?.cancel();
    this.notifyClient?.close();
    for (const p of this.peers.values()) p.close();
    this.peers.clear();
  }
}
