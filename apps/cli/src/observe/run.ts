// Runs observe/status/list nodes/handshakes against a relay or an agent and prints like hubble.
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import {
  FlowPrinter,
  GetHandshakesRequestSchema,
  GetNodesRequestSchema,
  HandshakeMessageType,
  NodeStateSchema,
  ServerStatusRequestSchema,
  enumName,
  formatTimestamp,
  registry,
  GetHandshakesResponseSchema,
  type GetFlowsResponse,
  type GetHandshakesResponse,
  type GetNodesResponse,
  type ServerStatusResponse,
} from '@wirescope/flow';
import {
  checkObserverHealth,
  observerService,
  serverStream,
  unary,
  wirescopeService,
} from '@wirescope/observer';
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

/** Streams flows; resolves to the exit code (0 ok, 1 server error). */
export async function runObserve(opts: ObserveOptions, io: Io): Promise<number> {
  const client = connect(opts.connect);
  try {
    await ready(client, opts.connect);
  } catch (err) {
    io.err(`wirescope: ${(err as Error).message}`);
    client.close();
    return 1;
  }
  const color = opts.color === 'always' || (opts.color === 'auto' && io.isTty && !process.env.NO_COLOR);
  const printer = new FlowPrinter({
    format: opts.format,
    color,
    nodeName: opts.nodeName,
    debug: opts.debug,
    out: io.out,
    err: io.err,
  });
  const call = serverStream<unknown, GetFlowsResponse>(client, observerService, 'GetFlows', opts.request);
  const flushTimer =
    opts.request.follow && opts.format === 'table' ? setInterval(() => printer.flush(), 1000) : undefined;
  const code = await new Promise<number>((resolve) => {
    call.on('data', (r: GetFlowsResponse) => {
      printer.write(r);
    });
    call.on('end', () => resolve(0));
    call.on('error', (err: grpc.ServiceError) => {
      if (err.code === grpc.status.CANCELLED) resolve(0);
      else {
        io.err(`wirescope: ${describe(err)}`);
        resolve(err.code === grpc.status.INVALID_ARGUMENT ? 2 : 1);
      }
    });
    void io.interrupted.then(() => call.cancel());
  });
  if (flushTimer) clearInterval(flushTimer);
  printer.flush();
  client.close();
  return code;
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

export async function runStatus(conn: ConnectOptions, io: Io, json: boolean): Promise<number> {
  const client = connect(conn);
  try {
    await ready(client, conn);
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
    const st = await unary<unknown, ServerStatusResponse>(
      client,
      observerService,
      'ServerStatus',
      create(ServerStatusRequestSchema),
      {
        deadlineMs: conn.timeoutMs,
      },
    );
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
  } catch (err) {
    io.err(`wirescope: ${describe(err)}`);
    return 1;
  } finally {
    client.close();
  }
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

export async function runListNodes(conn: ConnectOptions, io: Io, json: boolean): Promise<number> {
  const client = connect(conn);
  try {
    await ready(client, conn);
    const resp = await unary<unknown, GetNodesResponse>(
      client,
      observerService,
      'GetNodes',
      create(GetNodesRequestSchema),
      { deadlineMs: conn.timeoutMs },
    );
    if (json)
      io.out(
        JSON.stringify(
          toJson((await import('@wirescope/flow')).GetNodesResponseSchema, resp, { useProtoFieldName: true }),
        ),
      );
    else for (const l of formatNodes(resp)) io.out(l);
    return 0;
  } catch (err) {
    io.err(`wirescope: ${describe(err)}`);
    return 1;
  } finally {
    client.close();
  }
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
  const call = serverStream<unknown, GetHandshakesResponse>(
    client,
    wirescopeService,
    'GetHandshakes',
    create(GetHandshakesRequestSchema, req),
  );
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
