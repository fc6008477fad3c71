import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  GetFlowsResponseSchema,
  HandshakeMessageType,
  LostEventSource,
  ServerStatusResponseSchema,
  NodeState,
  encryptionOf,
  loadRecordedFlows,
  type Flow,
} from '@wirescope/flow';
import { Observer, ObserverServer, observerService, serviceDefinition } from '@wirescope/observer';
import { waitFor } from '@wirescope/observer/testing';
import { parseObserveArgs } from './flags.js';
import { formatStatus, runHandshakes, runListNodes, runObserve, runStatus, type Io } from './run.js';
import { connectOptions } from './connect.js';

const flows = loadRecordedFlows();
let observer: Observer;
let server: ObserverServer;
let address: string;

before(async () => {
  observer = new Observer({ nodeName: 'wst-node-1', capacity: 4095 });
  observer.pushBatch(flows.map((f) => f));
  server = new ObserverServer({ observer, listen: ['127.0.0.1:0'] });
  [address] = (await server.start()) as [string];
  const t = flows[0]!.time!;
  server.handshakes.push({
    time: t,
    peerNode: 'wst-node-2',
    localAddress: '192.168.77.11:51871',
    peerAddress: '192.168.77.12:51871',
    messageType: HandshakeMessageType.HANDSHAKE_INITIATION,
    senderIndex: 17,
    initiatedLocally: true,
  });
  server.handshakes.push({
    time: t,
    peerNode: 'wst-node-2',
    localAddress: '192.168.77.11:51871',
    peerAddress: '192.168.77.12:51871',
    messageType: HandshakeMessageType.HANDSHAKE_RESPONSE,
    senderIndex: 99,
    receiverIndex: 17,
    roundTripNs: 412_000n,
    initiatedLocally: true,
  });
});

after(async () => {
  await server.stop(100);
});

function capture(interrupt?: Promise<void>): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return {
    lines,
    errors,
    out: (l) => lines.push(l),
    err: (l) => errors.push(l),
    isTty: false,
    interrupted: interrupt ?? new Promise(() => {}),
  };
}

test('observe prints the last 20 flows in hubble compact form', async () => {
  const io = capture();
  assert.equal(await runObserve(parseObserveArgs(['--server', address]), io), 0);
  assert.equal(io.lines.length, 20);
  assert.match(io.lines[0]!, /^Nov 21 10:00:\d\d\.\d{3}: \S+ \((ID:\d+|host|world)\) (->|<-|<>) /);
});

test('observe --from-pod --to-pod --encrypted -o json returns the encrypted cross-node flows', async () => {
  const io = capture();
  const args = [
    '--server',
    address,
    '--from-pod',
    'default/client-',
    '--to-pod',
    'default/server-',
    '--encrypted',
    '--last',
    '20',
    '-o',
    'json',
  ];
  assert.equal(await runObserve(parseObserveArgs(args), io), 0);
  assert.equal(io.lines.length, 20);
  const parsed = io.lines.map(
    (l) => JSON.parse(l) as { IP: { encrypted: boolean }; node_name: string; source: { pod_name: string } },
  );
  assert.ok(parsed.every((f) => f.IP.encrypted === true && f.source.pod_name.startsWith('client-')));
  assert.deepEqual(new Set(parsed.map((f) => f.node_name)), new Set(['wst-node-1', 'wst-node-2']));
});

test('--not, --mechanism and --peer narrow the output', async () => {
  const io = capture();
  await runObserve(
    parseObserveArgs(['--server', address, '--all', '--not', '--verdict', 'FORWARDED', '-o', 'dict']),
    io,
  );
  const verdicts = io.lines.filter((l) => l.includes('VERDICT:'));
  assert.equal(verdicts.length, 8);
  assert.ok(verdicts.every((l) => l.endsWith('DROPPED')));
  const peer = capture();
  await runObserve(
    parseObserveArgs([
      '--server',
      address,
      '--all',
      '--mechanism',
      'wireguard',
      '--peer',
      'wst-node-3',
      '-o',
      'jsonpb',
    ]),
    peer,
  );
  assert.ok(peer.lines.length > 0);
  for (const l of peer.lines) {
    const ext = (JSON.parse(l) as { flow?: { extensions?: { peer_node: string; mechanism: string } } }).flow
      ?.extensions;
    assert.equal(ext?.peer_node, 'wst-node-3');
    assert.equal(ext?.mechanism, 'MECHANISM_WIREGUARD');
  }
});

test('follow shows flows as they arrive until interrupted', async () => {
  let stop!: () => void;
  const io = capture(new Promise((r) => (stop = r)));
  const running = runObserve(parseObserveArgs(['--server', address, '-f', '-o', 'compact']), io);
  await waitFor(() => observer.activeStreams === 1, 5000, 'follow subscription');
  const fresh: Flow = { ...flows[5]!, uuid: 'live-1' };
  observer.push(fresh);
  await waitFor(() => io.lines.length === 1, 5000, 'the live flow');
  stop();
  assert.equal(await running, 0);
});

test('a filter the server rejects exits 2 with the reason', async () => {
  const io = capture();
  assert.equal(await runObserve(parseObserveArgs(['--server', address, '--from-ip', '10.0.0.300']), io), 2);
  assert.match(io.errors[0]!, /INVALID_ARGUMENT: whitelist\[0\]\.source_ip: "10\.0\.0\.300" is not an IP/);
});

test('status, list nodes and handshakes', async () => {
  const conn = connectOptions(new Map([['--server', address]]));
  const st = capture();
  assert.equal(await runStatus(conn, st, false), 0);
  assert.equal(st.lines[0], `Healthcheck (via ${address}): Ok`);
  assert.equal(
    st.lines[1],
    `Current/Max Flows: ${flows.length + 1}/4,095 (${(((flows.length + 1) / 4095) * 100).toFixed(2)}%)`,
  );
  assert.match(st.lines[2]!, /^Flows\/s: \d+\.\d\d$/);
  const nodes = capture();
  assert.equal(await runListNodes(conn, nodes, false), 0);
  assert.match(nodes.lines[0]!, /^NAME\s+STATUS\s+AGE\s+FLOWS\/S\s+CURRENT\/MAX-FLOWS/);
  assert.match(nodes.lines[1]!, /^wst-node-1\s+Connected\s+/);
  const hs = capture();
  assert.equal(await runHandshakes(conn, hs, { number: 10n, follow: false, peerNode: '' }, false), 0);
  assert.equal(hs.lines.length, 2);
  assert.match(
    hs.lines[1]!,
    /wst-node-1 -> wst-node-2 \(192\.168\.77\.11:51871 -> 192\.168\.77\.12:51871\) response sender=99 receiver=17 rtt 0\.412 ms$/,
  );
});

test('relay-style status lists connected and unavailable nodes', () => {
  const lines = formatStatus('localhost:4245', {
    numFlows: 10n,
    maxFlows: 20n,
    seenFlows: 30n,
    uptimeNs: 1n,
    numConnectedNodes: 2,
    numUnavailableNodes: 1,
    unavailableNodes: ['wst-node-3'],
    version: 'x',
    flowsRate: 1.5,
  } as never);
  assert.deepEqual(lines, [
    'Healthcheck (via localhost:4245): Ok',
    'Current/Max Flows: 10/20 (50.00%)',
    'Flows/s: 1.50',
    'Connected Nodes: 2/3',
    'Unavailable Nodes: 1',
    '  - wst-node-3',
  ]);
});

test('an unreachable server is one clear line, exit 1', async () => {
  const io = capture();
  const code = await runObserve(parseObserveArgs(['--server', '127.0.0.1:1', '--timeout', '500ms']), io);
  assert.equal(code, 1);
  assert.match(io.errors[0]!, /^wirescope: cannot reach 127\.0\.0\.1:1: .*give --server$/);
});

test('the wirescope binary prints one line for a bad flag and exits 2', () => {
  const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
  const res = spawnSync(process.execPath, [bin, 'observe', '--output', 'xml'], { encoding: 'utf8' });
  assert.equal(res.status, 2);
  assert.equal(res.stderr, 'wirescope: -o "xml" is unknown; accepted: compact, json, jsonpb, dict, table\n');
  const list = spawnSync(process.execPath, [bin, 'list', 'pods'], { encoding: 'utf8' });
  assert.equal(list.status, 2);
  assert.equal(list.stderr, 'wirescope: list "pods" is unknown; accepted: nodes\n');
  const zero = spawnSync(process.execPath, [bin, 'observe', '--timeout', '0s'], { encoding: 'utf8' });
  assert.equal(zero.status, 2);
  assert.equal(
    zero.stderr,
    'wirescope: --timeout "0s" must be longer than 0 (accepted e.g. 500ms, 5s, 1m)\n',
  );
  const twice = spawnSync(process.execPath, [bin, 'encrypt', 'rotate-key', '--node', 'a', '--node', 'b'], {
    encoding: 'utf8',
  });
  assert.equal(twice.status, 2);
  assert.match(twice.stderr, /^wirescope: --node given 2 times \("a", "b"\); it takes one value; usage: /);
});

/** A relay stand-in that answers GetFlows with node status around one flow, as the relay does. */
async function relayLike(): Promise<{ address: string; stop: () => Promise<void> }> {
  const server = new grpc.Server();
  const status = (stateChange: NodeState, nodeNames: string[], message = '') =>
    create(GetFlowsResponseSchema, {
      responseTypes: { case: 'nodeStatus', value: { stateChange, nodeNames, message } },
      time: flows[0]!.time,
    });
  server.addService(serviceDefinition(observerService), {
    GetFlows: (call: grpc.ServerWritableStream<unknown, unknown>) => {
      call.write(status(NodeState.NODE_CONNECTED, ['node1', 'node2', 'node3']));
      call.write(
        create(GetFlowsResponseSchema, {
          responseTypes: { case: 'flow', value: flows[0]! },
          nodeName: flows[0]!.nodeName,
          time: flows[0]!.time,
        }),
      );
      call.write(status(NodeState.NODE_UNAVAILABLE, ['node3'], 'connection refused'));
      call.end();
    },
    ServerStatus: (_call: unknown, cb: grpc.sendUnaryData<unknown>) =>
      cb(null, create(ServerStatusResponseSchema, { numFlows: 1n, maxFlows: 4095n })),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { address: `127.0.0.1:${port}`, stop: () => new Promise((r) => server.tryShutdown(() => r())) };
}

test('node status goes to stderr, never into the flow stream; connected nodes only with --debug', async () => {
  const relay = await relayLike();
  try {
    for (const format of ['compact', 'json', 'jsonpb', 'dict', 'table']) {
      const io = capture();
      assert.equal(await runObserve(parseObserveArgs(['--server', relay.address, '-o', format]), io), 0);
      assert.ok(io.lines.length > 0, format);
      for (const l of io.lines) assert.doesNotMatch(l, /NODE_|node3|Receiving flows/, `${format} stdout`);
      assert.doesNotMatch(io.errors.join('\n'), /NODE_CONNECTED|Receiving flows/, `${format} stderr`);
    }
    const quiet = capture();
    await runObserve(parseObserveArgs(['--server', relay.address]), quiet);
    assert.deepEqual(quiet.errors, ['Nov 21 10:00:00.000: 1 nodes are unavailable: node3']);
    assert.equal(quiet.lines.length, 1);
    const debug = capture();
    await runObserve(parseObserveArgs(['--server', relay.address, '--debug']), debug);
    assert.deepEqual(debug.errors, [
      'Nov 21 10:00:00.000: Receiving flows from 3 nodes: node1, node2, node3',
      'Nov 21 10:00:00.000: 1 nodes are unavailable: node3',
    ]);
    assert.equal(debug.lines.length, 1);
    const short = capture();
    await runObserve(parseObserveArgs(['--server', relay.address, '-D', '-o', 'jsonpb']), short);
    assert.deepEqual(
      short.errors.map(
        (l) => (JSON.parse(l) as { node_status: { state_change: string } }).node_status.state_change,
      ),
      ['NODE_CONNECTED', 'NODE_UNAVAILABLE'],
    );
    assert.ok(short.lines.every((l) => 'flow' in JSON.parse(l)));
  } finally {
    await relay.stop();
  }
});

test('status asks grpc.health.v1 first, as hubble status does: NOT_SERVING is exit 1 without ServerStatus', async () => {
  const idle = new ObserverServer({
    observer: new Observer({ nodeName: 'wst-node-5', capacity: 63 }),
    listen: ['127.0.0.1:0'],
  });
  const [idleAddress] = (await idle.start()) as [string];
  try {
    idle.health.setServing(false);
    const io = capture();
    assert.equal(await runStatus(connectOptions(new Map([['--server', idleAddress]])), io, false), 1);
    assert.deepEqual(io.lines, []);
    assert.deepEqual(io.errors, [
      `Healthcheck (via ${idleAddress}): Unavailable: NOT_SERVING`,
      'wirescope: not healthy',
    ]);
  } finally {
    await idle.stop(100);
  }
  const relay = await relayLike();
  try {
    const io = capture();
    assert.equal(await runStatus(connectOptions(new Map([['--server', relay.address]])), io, false), 0);
    assert.equal(
      io.lines[0],
      `Healthcheck (via ${relay.address}): unknown (the server has no grpc.health.v1)`,
    );
  } finally {
    await relay.stop();
  }
});

test('--peer --last 2 counts matching flows on the server (it returned 0 when the CLI filtered after --last)', async () => {
  const io = capture();
  const args = ['--server', address, '--peer', 'wst-node-3', '--last', '2', '-o', 'json'];
  assert.equal(await runObserve(parseObserveArgs(args), io), 0);
  const got = io.lines.map((l) => JSON.parse(l) as { uuid: string });
  const expected = flows.filter((f) => encryptionOf(f)?.peerNode === 'wst-node-3').slice(-2);
  assert.deepEqual(
    got.map((f) => f.uuid),
    expected.map((f) => f.uuid),
  );
  const wg = capture();
  await runObserve(
    parseObserveArgs(['--server', address, '--mechanism', 'wireguard', '--last', '3', '-o', 'json']),
    wg,
  );
  assert.equal(wg.lines.length, 3);
  assert.ok(wg.lines.every((l) => /"mechanism":"MECHANISM_WIREGUARD"/.test(l)));
});

/** A flow of the recording with a new uuid and time (milliseconds into 2026-11-21 11:00). */
function flowAt(uuid: string, ms: number): Flow {
  const at = Date.UTC(2026, 10, 21, 11, 0, 0) + ms;
  return { ...flows[5]!, uuid, time: timestampFromMs(at) };
}

test('observe -f survives a server restart: one line each way on stderr, resumes after the last flow shown', async () => {
  const agent = new Observer({ nodeName: 'wst-node-7', capacity: 63 });
  let server = new ObserverServer({ observer: agent, listen: ['127.0.0.1:0'] });
  const [bound] = (await server.start()) as [string];
  let stop!: () => void;
  const io = capture(new Promise((r) => (stop = r)));
  const uuidsShown = () => io.lines.map((l) => (JSON.parse(l) as { uuid: string }).uuid);
  const running = runObserve(parseObserveArgs(['--server', bound, '-f', '-o', 'json']), io, {
    initialMs: 20,
    maxMs: 100,
  });
  try {
    await waitFor(() => agent.activeStreams === 1, 5000, 'follow subscription');
    agent.push(flowAt('a', 0));
    agent.push(flowAt('b', 10));
    await waitFor(() => io.lines.length === 2, 5000, 'the first two flows');

    await server.stop(0);
    await waitFor(() => io.errors.length === 1, 5000, 'the drop line');
    assert.match(
      io.errors[0]!,
      new RegExp(
        `^wirescope: lost the flow stream from ${bound} \\((UNAVAILABLE|CANCELLED): .*\\); reconnecting until interrupted$`,
      ),
    );
    // seen by the node while the follower was cut off: c after the last flow shown, d at its time
    agent.push(flowAt('c', 20));
    agent.push(flowAt('d', 10));
    await new Promise((r) => setTimeout(r, 300)); // several failed attempts: still one line
    assert.equal(io.errors.length, 1);

    server = new ObserverServer({ observer: agent, listen: [bound] });
    await server.start();
    await waitFor(() => io.errors.length === 2, 5000, 'the resume line');
    assert.equal(io.errors[1], `wirescope: reconnected to ${bound}, resuming from Nov 21 11:00:00.010`);
    await waitFor(() => io.lines.length === 4, 5000, 'the flows missed while cut off');
    agent.push(flowAt('e', 30));
    await waitFor(() => io.lines.length === 5, 5000, 'a live flow after the resume');
    // b is at the resume boundary (since includes it): sent again, shown once
    assert.deepEqual(uuidsShown(), ['a', 'b', 'c', 'd', 'e']);
    stop();
    assert.equal(await running, 0);
  } finally {
    stop();
    await server.stop(0);
  }
});

test('observe -f exits at once on Ctrl-C while waiting to reconnect, and on INVALID_ARGUMENT', async () => {
  const agent = new Observer({ nodeName: 'wst-node-8', capacity: 63 });
  const server = new ObserverServer({ observer: agent, listen: ['127.0.0.1:0'] });
  const [bound] = (await server.start()) as [string];
  let stop!: () => void;
  const io = capture(new Promise((r) => (stop = r)));
  // the default backoff: after a few attempts the follower sleeps 1-2 s between them
  const running = runObserve(parseObserveArgs(['--server', bound, '-f']), io);
  await waitFor(() => agent.activeStreams === 1, 5000, 'follow subscription');
  await server.stop(0);
  await waitFor(() => io.errors.length === 1, 5000, 'the drop line');
  await new Promise((r) => setTimeout(r, 1200));
  const interruptedAt = Date.now();
  stop();
  assert.equal(await running, 0);
  assert.ok(Date.now() - interruptedAt < 500, `exited ${Date.now() - interruptedAt} ms after Ctrl-C`);
  assert.equal(io.errors.length, 1);

  const bad = capture();
  const args = ['--server', address, '-f', '--from-ip', '10.0.0.300'];
  assert.equal(await runObserve(parseObserveArgs(args), bad), 2);
  assert.deepEqual(bad.errors.length, 1);
  assert.match(bad.errors[0]!, /^wirescope: INVALID_ARGUMENT: whitelist\[0\]\.source_ip/);
});

test('without -f a dropped stream fails at once, as before', async () => {
  const server = new grpc.Server();
  let calls = 0;
  server.addService(serviceDefinition(observerService), {
    GetFlows: (call: grpc.ServerWritableStream<unknown, unknown>) => {
      calls++;
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'relay going away' });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  try {
    const io = capture();
    assert.equal(await runObserve(parseObserveArgs(['--server', `127.0.0.1:${port}`, '--last', '5']), io), 1);
    assert.deepEqual(io.errors, ['wirescope: UNAVAILABLE: relay going away']);
    assert.equal(calls, 1);
    // the same failure with -f is retried until interrupted
    let stop!: () => void;
    const follower = capture(new Promise((r) => (stop = r)));
    const running = runObserve(parseObserveArgs(['--server', `127.0.0.1:${port}`, '-f']), follower, {
      initialMs: 10,
      maxMs: 20,
    });
    await waitFor(() => calls >= 4, 5000, 'retries');
    stop();
    assert.equal(await running, 0);
    assert.deepEqual(follower.errors, [
      `wirescope: lost the flow stream from 127.0.0.1:${port} (UNAVAILABLE: relay going away); reconnecting until interrupted`,
    ]);
  } finally {
    server.forceShutdown();
  }
});

test('lost_events print on stderr as they come and once more as a one-line summary at exit', async () => {
  const server = new grpc.Server();
  const lost = (source: LostEventSource, numEventsLost: bigint, nodeName: string) =>
    create(GetFlowsResponseSchema, {
      responseTypes: { case: 'lostEvents', value: { source, numEventsLost } },
      nodeName,
      time: flows[0]!.time,
    });
  server.addService(serviceDefinition(observerService), {
    GetFlows: (call: grpc.ServerWritableStream<unknown, unknown>) => {
      call.write(lost(LostEventSource.OBSERVER_EVENTS_QUEUE, 1200n, 'node1'));
      call.write(
        create(GetFlowsResponseSchema, {
          responseTypes: { case: 'flow', value: flows[0]! },
          nodeName: flows[0]!.nodeName,
          time: flows[0]!.time,
        }),
      );
      call.write(lost(LostEventSource.PERF_EVENT_RING_BUFFER, 4n, 'node2'));
      call.write(lost(LostEventSource.OBSERVER_EVENTS_QUEUE, 34n, 'node2'));
      call.end();
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  try {
    const io = capture();
    assert.equal(await runObserve(parseObserveArgs(['--server', `127.0.0.1:${port}`]), io), 0);
    assert.equal(io.lines.length, 1, 'the flow alone on stdout');
    assert.deepEqual(io.errors, [
      'Nov 21 10:00:00.000 [node1]: EVENTS LOST: OBSERVER_EVENTS_QUEUE lost 1200 events',
      'Nov 21 10:00:00.000 [node2]: EVENTS LOST: PERF_EVENT_RING_BUFFER lost 4 events',
      'Nov 21 10:00:00.000 [node2]: EVENTS LOST: OBSERVER_EVENTS_QUEUE lost 34 events',
      'wirescope: 1,238 flows lost (PERF_EVENT_RING_BUFFER 4, OBSERVER_EVENTS_QUEUE 1,234)',
    ]);
    const json = capture();
    await runObserve(parseObserveArgs(['--server', `127.0.0.1:${port}`, '-o', 'json']), json);
    assert.equal(json.lines.length, 4, 'json keeps lost_events in the stream, as hubble -o json does');
    assert.deepEqual(json.errors, [
      'wirescope: 1,238 flows lost (PERF_EVENT_RING_BUFFER 4, OBSERVER_EVENTS_QUEUE 1,234)',
    ]);
    const none = capture();
    await runObserve(parseObserveArgs(['--server', address]), none);
    assert.deepEqual(none.errors, [], 'no summary when nothing was lost');
  } finally {
    await new Promise<void>((r) => server.tryShutdown(() => r()));
  }
});
