// One follower of the relay for bench:live, in its own process (as a user's client is), started by
// fork() with IPC. Two kinds, from argv:
//
//   raw <server>       a GetFlows follow stream read as bytes (RawServerStream): what any client
//                      receives, with nothing spent on decoding or printing
//   cli <server>       the real CLI, `observe -f -o json --server <server>`, whose stdout this
//                      process reads through a pipe and counts line by line (/dev/null would
//                      leave nothing to count)
//
// Every flow's own time (µs) is kept per node, so the bench can ask how many of the flows stamped
// inside a node's window arrived, whatever the delivery lag, to the microsecond the agents stamp.
// Lost-event notices are kept with their time, node and source.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  GetFlowsRequestSchema,
  GetFlowsResponseSchema,
  LostEventSource,
  findField,
  responseKind,
  responseTimeMicros,
} from '@wirescope/flow';
import { RawServerStream, makeClient } from '@wirescope/observer';
import { rfc3339Micros } from './lab.js';
import type { FollowerReply, FollowerRequest, LostNotice } from './types.js';

const [kind, server] = process.argv.slice(2) as ['raw' | 'cli', string];

/** Flow times per node in arrival order (a growing array: a run is a few million flows). */
const flowTimes = new Map<string, { micros: Float64Array; length: number }>();
const newestMicros = new Map<string, number>();
const lost: LostNotice[] = [];
/**
 * A queue that overflowed says so just before the next flow it kept (or once it drained), so a
 * notice belongs with the next flow from its node, not with the moment it was sent.
 */
const lostAwaitingFlow = new Map<string, LostNotice[]>();
let flows = 0;
let flowBytes = 0;
let connected = false;

function countFlow(node: string, micros: number, bytes: number): void {
  flows++;
  flowBytes += bytes;
  let times = flowTimes.get(node);
  if (!times) flowTimes.set(node, (times = { micros: new Float64Array(1 << 16), length: 0 }));
  if (times.length === times.micros.length) {
    const bigger = new Float64Array(times.micros.length * 2);
    bigger.set(times.micros);
    times.micros = bigger;
  }
  times.micros[times.length++] = micros;
  if (micros > (newestMicros.get(node) ?? 0)) newestMicros.set(node, micros);
  const notices = lostAwaitingFlow.get(node);
  if (notices) {
    for (const notice of notices) notice.micros = micros;
    lostAwaitingFlow.delete(node);
  }
}

function noteLost(notice: LostNotice): void {
  lost.push(notice);
  const pending = lostAwaitingFlow.get(notice.node);
  if (pending) pending.push(notice);
  else lostAwaitingFlow.set(notice.node, [notice]);
}

function lostSourceName(source: LostEventSource): string {
  return LostEventSource[source] ?? String(source);
}

function followRaw(): void {
  const client = makeClient(server, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
  });
  const request = toBinary(GetFlowsRequestSchema, create(GetFlowsRequestSchema, { follow: true }));
  const onMessage = (bytes: Buffer) => {
    connected = true;
    const kindOf = responseKind(bytes);
    if (kindOf === 1) {
      const name = findField(bytes, 1000);
      const node = name ? bytes.toString('utf8', name[0], name[1]) : '';
      countFlow(node, responseTimeMicros(bytes), bytes.length);
    } else if (kindOf === 3) {
      const response = fromBinary(GetFlowsResponseSchema, bytes);
      if (response.responseTypes.case !== 'lostEvents') return;
      noteLost({
        micros: responseTimeMicros(bytes),
        node: response.nodeName,
        source: lostSourceName(response.responseTypes.value.source),
        count: Number(response.responseTypes.value.numEventsLost),
      });
    }
  };
  const call = new RawServerStream(client, '/observer.Observer/GetFlows', request, {
    onMessage,
    onStatus: (code, details) => {
      // a follow stream never ends by itself: say so, the bench reports it as a product failure
      process.send?.({ type: 'ended', code, details } satisfies FollowerReply);
    },
  });
  process.on('disconnect', () => {
    call.cancel();
    client.close();
    process.exit(0);
  });
}

/** `"time":"2024-…Z"` is the first field of hubble's JSON flow; node_name comes later. */
function parseCliLine(line: string): void {
  if (line.startsWith('{"lost_events"')) {
    const response = JSON.parse(line) as {
      lost_events: { source?: string; num_events_lost?: string | number };
      node_name?: string;
      time?: string;
    };
    noteLost({
      micros: rfc3339Micros(response.time ?? ''),
      node: response.node_name ?? '',
      source: response.lost_events.source ?? 'UNKNOWN_LOST_EVENT_SOURCE',
      count: Number(response.lost_events.num_events_lost ?? 0),
    });
    return;
  }
  const timeAt = line.indexOf('"time":"');
  const nodeAt = line.indexOf('"node_name":"');
  if (timeAt < 0) return;
  const micros = rfc3339Micros(line.slice(timeAt + 8, line.indexOf('"', timeAt + 8)));
  const node = nodeAt < 0 ? '' : line.slice(nodeAt + 13, line.indexOf('"', nodeAt + 13));
  countFlow(node, micros, line.length + 1);
}

function followCli(): void {
  const cli = fileURLToPath(new URL('../../apps/cli/dist/bin.js', import.meta.url));
  const child = spawn(process.execPath, [cli, 'observe', '-f', '-o', 'json', '--server', server], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    connected = true;
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line) parseCliLine(line);
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  child.on('exit', (code, signal) => {
    process.send?.({
      type: 'ended',
      code: code ?? -1,
      details: `cli exited (${signal ?? code}): ${stderr.trim().split('\n').slice(-2).join(' | ')}`,
    } satisfies FollowerReply);
  });
  // the CLI is this process's child: stop it by its pid when the bench lets go of us
  process.on('disconnect', () => {
    child.kill('SIGTERM');
    process.exit(0);
  });
  // the CLI prints nothing until a flow arrives; its stderr says when it is streaming
  setTimeout(() => (connected = true), 2000);
}

process.on('message', (message: FollowerRequest) => {
  if (message.type === 'ready') {
    process.send?.({ type: 'ready', connected } satisfies FollowerReply);
    return;
  }
  const perNode: Record<string, number> = {};
  for (const [node, times] of flowTimes) {
    const window = message.perNode?.[node] ?? { fromMicros: message.fromMicros, toMicros: message.toMicros };
    let sum = 0;
    for (let i = 0; i < times.length; i++) {
      const t = times.micros[i]!;
      if (t > window.fromMicros && t <= window.toMicros) sum++;
    }
    perNode[node] = sum;
  }
  process.send?.({
    type: 'window',
    perNode,
    lost: lost.filter((l) => l.micros > message.fromMicros && l.micros <= message.toMicros),
    newestMicros: Object.fromEntries(newestMicros),
    flows,
    meanFlowBytes: flows ? flowBytes / flows : 0,
  } satisfies FollowerReply);
});

if (kind === 'raw') followRaw();
else followCli();
