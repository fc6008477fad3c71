// Issue 5 on the real lab (one lab for the file): agents serve the Hubble Observer API with mTLS,
// the relay runs in the control-plane namespace, and the root namespace reaches it through the
// loopback forward on 127.0.0.1:4245, so the CLI works with its defaults.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { randomInt } from 'node:crypto';
import { cli, eventually, inNs, labUp, processRuns, ROOT } from './lab-helpers.js';

const NODES = ['node1', 'node2', 'node3'];
const NODE_IPS = new Map([
  ['node1', '10.77.0.11'],
  ['node2', '10.77.0.12'],
  ['node3', '10.77.0.13'],
]);
const LOADGEN = 'wsl-node1-shop-loadgen'; // node1
const API_IP = '10.244.2.10'; // shop/api on node2: frontend (node1) -> api is cross-node
const TLS = '/run/wirescope-lab/tls';
const RELAY_IN_LAB = '10.77.0.254:4245';

interface JsonFlow {
  time?: string;
  node_name?: string;
  trace_observation_point?: string;
  IP?: { source?: string; destination?: string; encrypted?: boolean };
  l4?: { TCP?: { source_port?: number; destination_port?: number } };
  source?: { namespace?: string; pod_name?: string };
  destination?: { namespace?: string; pod_name?: string };
  node_status?: { state_change?: string; node_names?: string[] };
}

const jsonLines = (text: string): JsonFlow[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as JsonFlow);

/** `wirescope observe -f ...` in the background, its JSON lines collected with arrival times. */
class Follower {
  readonly lines: { at: number; value: JsonFlow }[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private partial = '';
  private stderrPartial = '';
  stderr = '';

  /** jsonpb: flows on stdout, node status (with --debug, also connected nodes) as JSON on stderr, like hubble. */
  constructor(args: string[]) {
    this.child = spawn(process.execPath, [
      `${ROOT}apps/cli/dist/bin.js`,
      'observe',
      '-f',
      '-o',
      'jsonpb',
      ...args,
    ]);
    this.child.stdout.on('data', (d: Buffer) => {
      const at = Date.now();
      const text = this.partial + d.toString();
      const parts = text.split('\n');
      this.partial = parts.pop() ?? '';
      for (const line of parts)
        if (line.startsWith('{')) {
          const response = JSON.parse(line) as { flow?: JsonFlow; node_status?: unknown };
          assert.equal(response.node_status, undefined, 'node status never goes to stdout');
          if (response.flow) this.lines.push({ at, value: response.flow });
        }
    });
    this.child.stderr.on('data', (d: Buffer) => {
      const at = Date.now();
      this.stderr += d.toString();
      const parts = (this.stderrPartial + d.toString()).split('\n');
      this.stderrPartial = parts.pop() ?? '';
      for (const line of parts)
        if (line.startsWith('{"node_status"')) this.lines.push({ at, value: JSON.parse(line) as JsonFlow });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGINT');
    await exited;
  }
}

before(() => {
  const up = labUp();
  assert.equal(up.code, 0, `lab up failed: ${up.stderr}${up.stdout}`);
  assert.match(up.stdout, /relay in wsl-cp .* sees 3\/3 agents; forwarded to 127\.0\.0\.1:4245/);
});

after(() => {
  const down = cli('lab', 'down');
  assert.equal(down.code, 0, down.stderr);
});

test('lab up made a CA and certificates with 0600 keys; lab status shows the relay and the forward', () => {
  for (const name of [
    'ca',
    'agent-node1',
    'agent-node2',
    'agent-node3',
    'relay-server',
    'relay-client',
    'cli-client',
  ]) {
    assert.equal(statSync(`${TLS}/${name}.key`).mode & 0o777, 0o600, `${name}.key is 0600`);
    assert.ok(statSync(`${TLS}/${name === 'ca' ? 'ca' : name}.crt`).size > 0);
  }
  const status = cli('lab', 'status');
  assert.equal(status.code, 0, status.stdout);
  assert.match(
    status.stdout,
    /relay: pid \d+ running in wsl-cp, mTLS 10\.77\.0\.254:4245, plain \/run\/wirescope-lab\/relay\.sock; agents connected 3\/3/,
  );
  assert.match(
    status.stdout,
    /forward: 127\.0\.0\.1:4245 -> \/run\/wirescope-lab\/relay\.sock, pid \d+ running/,
  );
});

test('observe --from-pod shop/frontend --to-pod shop/api --last 20 -o json: the cross-node flow from both nodes, encrypted', async () => {
  const seen = await eventually('encrypted frontend->api flows from node1 and node2', 15_000, () => {
    const res = cli(
      'observe',
      '--from-pod',
      'shop/frontend',
      '--to-pod',
      'shop/api',
      '--last',
      '20',
      '-o',
      'json',
    );
    assert.equal(res.code, 0, res.stderr);
    const flows = jsonLines(res.stdout).filter(
      (f) =>
        f.source?.pod_name === 'frontend' &&
        f.destination?.pod_name === 'api' &&
        f.IP?.destination === API_IP,
    );
    const encryptedOn = new Set(flows.filter((f) => f.IP?.encrypted === true).map((f) => f.node_name));
    return encryptedOn.has('node1') && encryptedOn.has('node2') ? flows : undefined;
  });
  // The sending node sees it enter the tunnel, the receiving node sees it leave the tunnel.
  assert.ok(
    seen.some((f) => f.node_name === 'node1' && f.trace_observation_point === 'TO_CRYPTO' && f.IP?.encrypted),
  );
  assert.ok(
    seen.some(
      (f) => f.node_name === 'node2' && f.trace_observation_point === 'FROM_CRYPTO' && f.IP?.encrypted,
    ),
  );
});

test('status counts every node; list nodes shows each connected over TLS; handshakes shows every pair with a round trip', () => {
  const status = cli('status');
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /Healthcheck \(via localhost:4245\): Ok/);
  assert.match(status.stdout, /Connected Nodes: 3\/3/);

  const nodes = cli('list', 'nodes');
  assert.equal(nodes.code, 0, nodes.stderr);
  for (const node of NODES) {
    assert.match(nodes.stdout, new RegExp(`^${node} +Connected .* ${NODE_IPS.get(node)}:4244 +yes$`, 'm'));
  }

  const handshakes = cli('handshakes');
  assert.equal(handshakes.code, 0, handshakes.stderr);
  for (const [i, a] of NODES.entries()) {
    for (const b of NODES.slice(i + 1)) {
      const ipA = NODE_IPS.get(a) ?? '';
      const ipB = NODE_IPS.get(b) ?? '';
      const pair = handshakes.stdout
        .split('\n')
        .filter((l) => / rtt \d+(\.\d+)? ms/.test(l))
        .filter((l) => l.includes(ipA) && l.includes(ipB));
      assert.ok(
        pair.length > 0,
        `a handshake with a round trip between ${a} and ${b}:\n${handshakes.stdout}`,
      );
    }
  }
});

test('encrypt status answers for the whole cluster through the relay', () => {
  const text = cli('encrypt', 'status');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^\(whole cluster via the relay at localhost:4245\)/);
  const json = cli('encrypt', 'status', '-o', 'json');
  const nodes = JSON.parse(json.stdout) as {
    node: string;
    peers: { node: string; latestHandshake?: string }[];
  }[];
  assert.deepEqual(
    nodes.map((n) => n.node),
    NODES,
  );
  for (const n of nodes) {
    assert.deepEqual(
      n.peers.map((p) => p.node).sort(),
      NODES.filter((x) => x !== n.node),
    );
    for (const p of n.peers) assert.ok(p.latestHandshake, `${n.node} -> ${p.node} has handshaken`);
  }
});

test('an invalid filter (bad CIDR) answers INVALID_ARGUMENT with the reason', () => {
  const res = cli('observe', '--from-ip', '10.0.0.0/33', '--last', '1');
  assert.notEqual(res.code, 0);
  assert.match(
    res.stderr,
    /INVALID_ARGUMENT: whitelist\[0\]\.source_ip: "10\.0\.0\.0\/33" has an invalid prefix length \(accepted: 0-32\)/,
  );
  assert.equal(res.stderr.trim().split('\n').length, 1, 'one line');
});

test("mTLS: inside the lab the relay's TLS port refuses a client without a certificate and serves one with the lab's", () => {
  const base = [
    'wsl-cp',
    process.execPath,
    `${ROOT}apps/cli/dist/bin.js`,
    'status',
    '--server',
    RELAY_IN_LAB,
    '--timeout',
    '3s',
  ];
  const tls = [
    '--tls',
    '--tls-ca-cert-files',
    `${TLS}/ca.crt`,
    '--tls-server-name',
    'hubble-relay.wirescope-lab',
  ];
  const noCert = inNs(...base, ...tls);
  assert.notEqual(noCert.code, 0, `no client certificate must be refused:\n${noCert.stdout}`);
  assert.match(noCert.stderr, /cannot reach 10\.77\.0\.254:4245/);
  const plain = inNs(...base);
  assert.notEqual(plain.code, 0, 'plaintext to the TLS port must fail');
  const withCert = inNs(
    ...base,
    ...tls,
    '--tls-client-cert-file',
    `${TLS}/cli-client.crt`,
    '--tls-client-key-file',
    `${TLS}/cli-client.key`,
  );
  assert.equal(withCert.code, 0, withCert.stderr);
  assert.match(withCert.stdout, /Connected Nodes: 3\/3/);
});

test('observe --follow shows a new cross-node flow within 1 s of the packet', async () => {
  const follower = new Follower(['--from-pod', 'shop/loadgen']);
  try {
    // Streaming: loadgen's regular requests arrive first.
    await eventually('the follower to stream', 10_000, () =>
      follower.lines.some((l) => l.value.IP) ? true : undefined,
    );
    const port = randomInt(41_000, 59_000);
    const sent = Date.now();
    const curl = inNs(
      LOADGEN,
      'curl',
      '-s',
      '-m',
      '3',
      '-o',
      '/dev/null',
      '--local-port',
      String(port),
      `http://${API_IP}:8080/`,
    );
    assert.equal(curl.code, 0, curl.stderr);
    const first = await eventually(`a flow from local port ${port}`, 5_000, () =>
      follower.lines.find((l) => l.value.l4?.TCP?.source_port === port && l.value.IP?.destination === API_IP),
    );
    const latency = first.at - sent;
    console.log(
      `follow latency: ${latency} ms from before the packet to the flow line (node ${first.value.node_name})`,
    );
    assert.ok(latency < 1000, `flow shown ${latency} ms after the packet`);
    const nodesSeen = new Set(
      follower.lines.filter((l) => l.value.l4?.TCP?.source_port === port).map((l) => l.value.node_name),
    );
    await eventually('the same connection from node2 too', 3_000, () => {
      for (const l of follower.lines)
        if (l.value.l4?.TCP?.source_port === port) nodesSeen.add(l.value.node_name);
      return nodesSeen.has('node1') && nodesSeen.has('node2') ? true : undefined;
    });
  } finally {
    await follower.stop();
  }
});

/** The stock hubble CLI, when this machine has one on PATH (it is no Debian or npm package). */
const HUBBLE = spawnSync('sh', ['-c', 'command -v hubble'], { encoding: 'utf8' }).stdout.trim();

function hubble(...args: string[]): string {
  // stdin is no pipe: hubble observe reads flows from a piped stdin instead of the server
  const res = spawnSync(HUBBLE, ['--server', 'localhost:4245', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  assert.equal(res.status, 0, `hubble ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

test('the stock hubble CLI through the relay: status, trace summaries, kernel drops', async (t) => {
  if (!HUBBLE) {
    t.diagnostic('stock hubble CLI not on PATH: this test checked nothing');
    return;
  }
  // hubble health-checks the Observer service (grpc.health.v1) before ServerStatus
  const status = hubble('status');
  assert.match(status, /^Healthcheck \(via localhost:4245\): Ok$/m);
  assert.match(status, /^Connected Nodes: 3\/3$/m);
  // hubble prints the deprecated Summary as each flow's closing parenthesis
  const trace = await eventually('a SYN of a cross-node call in hubble observe', 15_000, () => {
    const out = hubble('observe', '--from-pod', 'shop/frontend', '--to-pod', 'shop/api', '--last', '200');
    return /shop\/frontend:\d+ \(ID:\d+\) -> shop\/api:8080 \(ID:\d+\) \S+ FORWARDED \(TCP Flags: SYN\)/.test(
      out,
    )
      ? out
      : undefined;
  });
  assert.doesNotMatch(trace, /\(\)$/m, 'no flow has an empty summary');
  // the lab's udp-probe sends to a closed port of data/db: a kernel drop, never Cilium's
  // "Interface" (3) or a bare number without its reason
  const drops = await eventually('the udp-probe kernel drop in hubble observe', 15_000, () => {
    const out = hubble(
      'observe',
      '--verdict',
      'DROPPED',
      '--to-pod',
      'data/db',
      '--protocol',
      'udp',
      '--last',
      '50',
    );
    return /DROPPED/.test(out) ? out : undefined;
  });
  assert.match(
    drops,
    /ops\/udp-probe:\d+ \(ID:\d+\) <> data\/db:9999 \(ID:\d+\) .* DROPPED \(UDP; kernel drop: NO_SOCKET\)/,
  );
  assert.doesNotMatch(drops, /Interface/);
});

test('stopping an agent: the relay reports it unavailable within 5 s (status and NODE_UNAVAILABLE to a follower), and picks it up after restart', async () => {
  // --debug: NODE_CONNECTED is informational, shown (on stderr) only with it, as in hubble
  const follower = new Follower(['--from-pod', 'shop/loadgen', '--debug']);
  try {
    await eventually('the follower to stream', 10_000, () =>
      follower.lines.some((l) => l.value.IP) ? true : undefined,
    );
    // Timed from before the stop command: it returns only once the agent has exited.
    const stoppedAt = Date.now();
    const stopped = cli('lab', 'stop', 'agent-node3');
    assert.equal(stopped.code, 0, stopped.stderr);
    const event = await eventually('NODE_UNAVAILABLE for node3', 5_000, () =>
      follower.lines.find(
        (l) =>
          l.value.node_status?.state_change === 'NODE_UNAVAILABLE' &&
          l.value.node_status.node_names?.includes('node3'),
      ),
    );
    console.log(`NODE_UNAVAILABLE after ${event.at - stoppedAt} ms`);
    const status = cli('status');
    assert.match(status.stdout, /Connected Nodes: 2\/3/);
    assert.match(status.stdout, /Unavailable Nodes: 1/);
    assert.ok(Date.now() - stoppedAt < 5000, 'status said 2/3 within 5 s of the stop');
    const nodes = cli('list', 'nodes');
    assert.match(nodes.stdout, /^node3 +Unavailable/m);

    const started = cli('lab', 'start', 'agent-node3');
    assert.equal(started.code, 0, started.stderr);
    const startedAt = Date.now();
    await eventually('the relay to connect to node3 again', 30_000, () => {
      const s = cli('status');
      return /Connected Nodes: 3\/3/.test(s.stdout) ? true : undefined;
    });
    const back = await eventually('NODE_CONNECTED for node3', 5_000, () =>
      follower.lines.find(
        (l) =>
          l.at >= startedAt &&
          l.value.node_status?.state_change === 'NODE_CONNECTED' &&
          l.value.node_status.node_names?.includes('node3'),
      ),
    );
    console.log(`node3 connected again ${back.at - startedAt} ms after its agent was started`);
  } finally {
    await follower.stop();
  }
});

test('lab down removes the relay, the loopback forward and the certificates', async () => {
  const relayPid = (JSON.parse(cli('lab', 'status', '-o', 'json').stdout) as { relay: { pid: number } }).relay
    .pid;
  const down = cli('lab', 'down');
  assert.equal(down.code, 0, down.stderr);
  assert.equal(existsSync(TLS), false, 'certificates removed');
  assert.equal(processRuns(relayPid), false, 'relay process gone');
  const refused = await new Promise<boolean>((resolve) => {
    const socket = connect(4245, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
  assert.ok(refused, 'nothing listens on 127.0.0.1:4245 any more');
});
