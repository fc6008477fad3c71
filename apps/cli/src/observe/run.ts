// Runs observe/status/list nodes/handshakes against a relay or an agent and prints like hubble.
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { TimestampSchema, type Timestamp } from '@bufbuild/protobuf/wkt';
import {
  FlowPrinter,
  GetFlowsRequestSchema,
  GetHandshakesRequestSchema,
  GetNodesRequestSchema,
  HandshakeMessageType,
  LostEventSourceSchema,
  NodeStateSchema,
  ServerStatusRequestSchema,
  enumName,
  formatTimestamp,
  registry,
  GetHandshakesResponseSchema,
  type GetFlowsRequest,
  type GetFlowsResponse,
  type GetHandshakesResponse,
  type GetNodesResponse,
  type LostEvent,
  type LostEventSource,
  type ServerStatusResponse,
} from '@wirescope/flow';
import { checkObserverHealth, methods, serverStream, unary } from '@wirescope/observer';
import { toJson } from '@bufbuild/protobuf';
import { connect, ready, type ConnectOptions } from './connect.js';
import type { ObserveOptions } from './flags.js';

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  isTty: boolean;
  /** Resolves when the user interrupts (Ctrl-C); tests pass a promise they control. */
  interrupted: Promise<void>;
}

export function processIo(): Io {
  return {
    out: (l) => process.stdout.write(`${l}\n`),
    err: (l) => process.stderr.write(`${l}\n`),
    isTty: !!process.stdout.isTTY,
    interrupted: new Promise((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    }),
  };
}

function describe(err: unknown): string {
  const e = err as grpc.ServiceError;
  if (typeof e?.code === 'number') {
    const name = grpc.status[e.code] ?? String(e.code);
    return `${name}: ${e.details || e.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Follow mode's reconnect delays: short, as a supervised relay is back within seconds. */
export interface FollowBackoff {
  initialMs: number;
  maxMs: number;
}
export const followBackoff: FollowBackoff = { initialMs: 250, maxMs: 5000 };

/**
 * Stream failures after which a follower reconnects: the server, or the path to it, went away
 * (a SIGKILLed relay is UNAVAILABLE "Connection dropped"; a forced shutdown resets the stream).
 * Anything else (a bad request, no such method, no permission) would fail the same way again.
 */
const reconnectCodes: ReadonlySet<grpc.status> = new Set([
  grpc.status.UNAVAILABLE,
  grpc.status.CANCELLED,
  grpc.status.ABORTED,
  grpc.status.INTERNAL,
  grpc.status.UNKNOWN,
  grpc.status.DEADLINE_EXCEEDED,
]);

function micros(ts: Timestamp): number {
  return Number(ts.seconds) * 1e6 + Math.floor(ts.nanos / 1000);
}

/**
 * Where a follower resumes after a reconnect: at the newest flow it printed. `since` includes that
 * instant (the server compares microseconds), so the resumed stream repeats what was printed at
 * it; admit() drops those by uuid. Nothing older is asked for again, so nothing older repeats.
 */
export class ResumePoint {
  private boundary: number | undefined;
  private readonly printedAtBoundary = new Set<string>();

  constructor(
    private readonly original: GetFlowsRequest,
    /** Where to resume when nothing was printed yet: when the first stream started. */
    private readonly startedMicros: number,
  ) {}

  /** Notes a response about to be printed; false for a flow already printed. */
  admit(r: GetFlowsResponse): boolean {
    if (r.responseTypes.case !== 'flow') return true;
    const flow = r.responseTypes.value;
    // the response time survives a --field-mask without "time"
    const ts = r.time ?? flow.time;
    if (!ts) return true;
    const at = micros(ts);
    if (this.boundary === undefined || at > this.boundary) {
      this.boundary = at;
      this.printedAtBoundary.clear();
    } else if (at < this.boundary) {
      return true; // a slower node's older flow: not asked for again, so not a repeat
    } else if (flow.uuid && this.printedAtBoundary.has(flow.uuid)) {
      return false;
    }
    if (flow.uuid) this.printedAtBoundary.add(flow.uuid);
    return true;
  }

  get since(): Timestamp {
    const original = this.original.since ? micros(this.original.since) : 0;
    const at = this.boundary ?? Math.max(original, this.startedMicros);
    const seconds = Math.floor(at / 1e6);
    return create(TimestampSchema, { seconds: BigInt(seconds), nanos: (at - seconds * 1e6) * 1000 });
  }

  /** The resumed request: the same filters, everything since the boundary, then follow. */
  request(): GetFlowsRequest {
    return create(GetFlowsRequestSchema, { ...this.original, number: 0n, first: false, since: this.since });
  }
}

/**
 * Streams flows; resolves to the exit code (0 ok or interrupted, 1 server error, 2 invalid request).
 * With --follow, a dropped stream is reopened (a relay restarted by its supervisor) until the user
 * interrupts, resuming after the last flow printed; one line on stderr says when it dropped and one
 * when it is back. Without --follow a failure ends the command at once, as before.
 */
export async function runObserve(
  opts: ObserveOptions,
  io: Io,
  backoff: FollowBackoff = followBackoff,
): Promise<number> {
  let client = connect(opts.connect);
  try {
    await ready(client, opts.connect);
  } catch (err) {
    // a server that is not there at the start is a wrong --server or a lab that is down: say so
    io.err(`wirescope: ${(err as Error).message}`);
    client.close();
    return 1;
  }
  const color = opts.color === 'always' || (opts.color === 'auto' && io.isTty && !process.env.NO_COLOR);
  const printer = new FlowPrinter({
    format: opts.format,
    color,
    nodeName: opts.nodeName,
    printPolicyNames: opts.printPolicyNames ?? false,
    debug: opts.debug,
    out: io.out,
    err: io.err,
  });
  const follow = opts.request.follow;
  const flushTimer = follow && opts.format === 'table' ? setInterval(() => printer.flush(), 1000) : undefined;
  const resume = follow ? new ResumePoint(opts.request, Date.now() * 1000) : undefined;
  let interrupted = false;
  let cancelStream: (() => void) | undefined;
  let wakeFromBackoff: (() => void) | undefined;
  void io.interrupted.then(() => {
    interrupted = true;
    cancelStream?.();
    wakeFromBackoff?.();
  });

  const lost = new LostTally();
  let request = opts.request;
  let delayMs = backoff.initialMs;
  /** Between the line saying the stream dropped and the one saying it is back. */
  let dropped = false;
  let code = 0;
  while (!interrupted) {
    const call = serverStream(client, methods.observer.getFlows, request);
    cancelStream = () => call.cancel();
    const failure = await new Promise<grpc.ServiceError | undefined>((resolve) => {
      // headers or a first response: the server took the request (a relay's first response is
      // node status; an agent sends headers at once to a follower)
      const opened = () => {
        if (!dropped) return;
        dropped = false;
        delayMs = backoff.initialMs;
        io.err(
          `wirescope: reconnected to ${opts.connect.server}, resuming from ${formatTimestamp(resume!.since)}`,
        );
      };
      call.on('metadata', opened);
      call.on('data', (r: GetFlowsResponse) => {
        opened();
        if (r.responseTypes.case === 'lostEvents') lost.add(r.responseTypes.value);
        if (!resume || resume.admit(r)) printer.write(r);
      });
      call.on('end', () => resolve(undefined));
      call.on('error', (err: grpc.ServiceError) => resolve(err));
    });
    cancelStream = undefined;
    if (!failure || interrupted) break;
    if (!follow || !reconnectCodes.has(failure.code)) {
      io.err(`wirescope: ${describe(failure)}`);
      code = failure.code === grpc.status.INVALID_ARGUMENT ? 2 : 1;
      break;
    }
    if (!dropped) {
      dropped = true;
      io.err(
        `wirescope: lost the flow stream from ${opts.connect.server} (${describe(failure)}); reconnecting until interrupted`,
      );
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      wakeFromBackoff = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wakeFromBackoff = undefined;
    delayMs = Math.min(delayMs * 2, backoff.maxMs);
    // a new channel connects at once; the old one would wait out grpc-js's own backoff (up to 2 min)
    client.close();
    client = connect(opts.connect);
    request = resume!.request();
  }
  if (flushTimer) clearInterval(flushTimer);
  printer.flush();
  const summary = lost.summary();
  if (summary) io.err(summary);
  client.close();
  return code;
}

/** The lost_events a stream reported, by source: the one line observe prints at exit. */
export class LostTally {
  private readonly bySource = new Map<LostEventSource, bigint>();

  add(event: LostEvent): void {
    this.bySource.set(event.source, (this.bySource.get(event.source) ?? 0n) + event.numEventsLost);
  }

  /** e.g. "wirescope: 1,204 flows lost (OBSERVER_EVENTS_QUEUE 1,200, PERF_EVENT_RING_BUFFER 4)"; undefined for none. */
  summary(): string | undefined {
    let total = 0n;
    const parts: string[] = [];
    for (const [source, count] of [...this.bySource].sort((a, b) => a[0] - b[0])) {
      if (count === 0n) continue;
      total += count;
      parts.push(`${enumName(LostEventSourceSchema, source)} ${thousands(count)}`);
    }
    return total === 0n ? undefined : `wirescope: ${thousands(total)} flows lost (${parts.join(', ')})`;
  }
}

function thousands(n: bigint | number): string {
  return BigInt(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function formatStatus(server: string, st: ServerStatusResponse, health = 'Ok'): string[] {
  const pct = st.maxFlows > 0n ? (Number(st.numFlows) / Number(st.maxFlows)) * 100 : 0;
  const lines = [
    `Healthcheck (via ${server}): ${health}`,
    `Current/Max Flows: ${thousands(st.numFlows)}/${thousands(st.maxFlows)} (${pct.toFixed(2)}%)`,
    `Flows/s: ${st.flowsRate.toFixed(2)}`,
  ];
  if (st.numConnectedNodes !== undefined) {
    const total = st.numConnectedNodes + (st.numUnavailableNodes ?? 0);
    lines.push(`Connected Nodes: ${st.numConnectedNodes}/${total}`);
    if (st.unavailableNodes.length) {
      lines.push(`Unavailable Nodes: ${st.numUnavailableNodes}`);
      for (const n of st.unavailableNodes) lines.push(`  - ${n}`);
    }
  }
  return lines;
}

/** Connects, waits until ready, runs a one-shot command; any error is one line on stderr, rc 1. */
async function withReadyClient(
  conn: ConnectOptions,
  io: Io,
  command: (client: grpc.Client) => Promise<number>,
): Promise<number> {
  const client = connect(conn);
  try {
    await ready(client, conn);
    return await command(client);
  } catch (err) {
    io.err(`wirescope: ${describe(err)}`);
    return 1;
  } finally {
    client.close();
  }
}

export function runStatus(conn: ConnectOptions, io: Io, json: boolean): Promise<number> {
  return withReadyClient(conn, io, async (client) => {
    // as hubble status: the standard health check first, ServerStatus only from a serving Observer
    let health = 'Ok';
    try {
      const serving = await checkObserverHealth(client, conn.timeoutMs);
      if (serving !== 'SERVING') {
        io.err(`Healthcheck (via ${conn.server}): Unavailable: ${serving}`);
        io.err('wirescope: not healthy');
        return 1;
      }
    } catch (err) {
      if ((err as grpc.ServiceError).code !== grpc.status.UNIMPLEMENTED) throw err;
      health = 'unknown (the server has no grpc.health.v1)';
    }
    const st = await unary(client, methods.observer.serverStatus, create(ServerStatusRequestSchema), {
      deadlineMs: conn.timeoutMs,
    });
    if (json)
      io.out(
        JSON.stringify(
          toJson((await import('@wirescope/flow')).ServerStatusResponseSchema, st, {
            useProtoFieldName: true,
          }),
        ),
      );
    else for (const l of formatStatus(conn.server, st, health)) io.out(l);
    return 0;
  });
}

function age(ns: bigint): string {
  let s = Number(ns / 1_000_000_000n);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
    if (parts.length === 2) break;
  }
  if (parts.length < 2) parts.push(`${s}s`);
  return parts.join('');
}

export function formatNodes(resp: GetNodesResponse): string[] {
  const rows = [['NAME', 'STATUS', 'AGE', 'FLOWS/S', 'CURRENT/MAX-FLOWS', 'ADDRESS', 'TLS']];
  for (const n of resp.nodes) {
    const connected = enumName(NodeStateSchema, n.state) === 'NODE_CONNECTED';
    const pct = n.maxFlows > 0n ? ((Number(n.numFlows) / Number(n.maxFlows)) * 100).toFixed(1) : '0.0';
    const uptimeS = Number(n.uptimeNs) / 1e9;
    rows.push([
      n.name,
      connected
        ? 'Connected'
        : enumName(NodeStateSchema, n.state)
            .replace(/^NODE_/, '')
            .toLowerCase()
            .replace(/^./, (c) => c.toUpperCase()),
      connected ? age(n.uptimeNs) : 'N/A',
      connected && uptimeS > 0 ? (Number(n.seenFlows) / uptimeS).toFixed(2) : 'N/A',
      connected ? `${thousands(n.numFlows)}/${thousands(n.maxFlows)} (${pct}%)` : 'N/A',
      n.address,
      n.tls?.enabled ? 'yes' : 'no',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3)))
      .join('')
      .trimEnd(),
  );
}

export function runListNodes(conn: ConnectOptions, io: Io, json: boolean): Promise<number> {
  return withReadyClient(conn, io, async (client) => {
    const resp = await unary(client, methods.observer.getNodes, create(GetNodesRequestSchema), {
      deadlineMs: conn.timeoutMs,
    });
    if (json)
      io.out(
        JSON.stringify(
          toJson((await import('@wirescope/flow')).GetNodesResponseSchema, resp, { useProtoFieldName: true }),
        ),
      );
    else for (const l of formatNodes(resp)) io.out(l);
    return 0;
  });
}

export function formatHandshake(r: GetHandshakesResponse): string {
  const h = r.handshake;
  if (!h) return '';
  const kind =
    h.messageType === HandshakeMessageType.HANDSHAKE_INITIATION
      ? 'initiation'
      : h.messageType === HandshakeMessageType.HANDSHAKE_RESPONSE
        ? 'response'
        : h.messageType === HandshakeMessageType.HANDSHAKE_COOKIE_REPLY
          ? 'cookie-reply'
          : 'unknown';
  const arrow = h.initiatedLocally ? '->' : '<-';
  const rtt = h.roundTripNs > 0n ? ` rtt ${(Number(h.roundTripNs) / 1e6).toFixed(3)} ms` : '';
  const endpoints = h.peerAddress ? ` (${h.localAddress || '?'} ${arrow} ${h.peerAddress})` : '';
  return `${formatTimestamp(h.time ?? r.time)}: ${h.nodeName || r.nodeName} ${arrow} ${h.peerNode}${endpoints} ${kind} sender=${h.senderIndex} receiver=${h.receiverIndex}${rtt}`;
}

export async function runHandshakes(
  conn: ConnectOptions,
  io: Io,
  req: { number: bigint; follow: boolean; peerNode: string },
  json: boolean,
): Promise<number> {
  const client = connect(conn);
  try {
    await ready(client, conn);
  } catch (err) {
    io.err(`wirescope: ${(err as Error).message}`);
    client.close();
    return 1;
  }
  const call = serverStream(client, methods.wirescope.getHandshakes, create(GetHandshakesRequestSchema, req));
  const code = await new Promise<number>((resolve) => {
    call.on('data', (r: GetHandshakesResponse) =>
      io.out(
        json
          ? JSON.stringify(toJson(GetHandshakesResponseSchema, r, { useProtoFieldName: true, registry }))
          : formatHandshake(r),
      ),
    );
    call.on('end', () => resolve(0));
    call.on('error', (err: grpc.ServiceError) => {
      if (err.code === grpc.status.CANCELLED) resolve(0);
      else {
        io.err(`wirescope: ${describe(err)}`);
        resolve(1);
      }
    });
    void io.interrupted.then(() => call.cancel());
  });
  client.close();
  return code;
}
