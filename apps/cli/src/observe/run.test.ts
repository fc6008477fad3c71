import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HandshakeMessageType, loadRecordedFlows, type Flow } from '@wirescope/flow';
import { Observer, ObserverServer, waitFor } from '@wirescope/observer';
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
});
