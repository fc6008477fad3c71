// Issue 10 item 6 on the real lab: the relay is a Deployment in a real cluster, so the lab's
// supervisor restarts it (and its root-namespace forward on 127.0.0.1:4245) when it dies, with
// backoff; `lab stop relay` keeps it down until `lab start relay`; `lab down` leaves no supervisor.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { cli, eventually, labUp } from './lab-helpers.js';

const STATE = '/run/wirescope-lab/state.json';
const NODES = 3;

interface Record {
  name: string;
  pid: number;
  stoppedAt?: string;
  restarts?: number;
  lastRestart?: { at: string; reason: string };
}
const daemon = (name: string): Record => {
  const state = JSON.parse(readFileSync(STATE, 'utf8')) as { daemons: Record[] };
  return state.daemons.find((d) => d.name === name) ?? assert.fail(`no ${name} in the lab state`);
};

interface Supervised {
  pid: number;
  running: boolean;
  restarts: number;
  lastRestart?: { at: string; reason: string };
  stoppedAt?: string;
}
interface Status {
  relay: Supervised;
  forward: Supervised;
  supervisor: { pid: number; running: boolean; watches: string[] };
}
const labStatus = (): Status => JSON.parse(cli('lab', 'status', '-o', 'json').stdout) as Status;

/** A process that runs (not a zombie: a SIGKILLed lab daemon stays one under PID 1 here). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '');
  } catch {
    return false;
  }
}

/** `wirescope status` with its defaults (127.0.0.1:4245): connected nodes, or undefined if it fails. */
function relayNodes(): number | undefined {
  const res = cli('status', '-o', 'json');
  if (res.code !== 0) return undefined;
  return (JSON.parse(res.stdout) as { num_connected_nodes?: number }).num_connected_nodes ?? 0;
}

/** Time from now until the relay answers through 127.0.0.1:4245, and until it sees every node. */
async function relayBack(boundMs: number): Promise<{ answeredMs: number; allNodesMs: number }> {
  const start = Date.now();
  let answeredMs = -1;
  await eventually('wirescope status through 127.0.0.1:4245 to see every node', boundMs, () => {
    const nodes = relayNodes();
    if (nodes !== undefined && answeredMs < 0) answeredMs = Date.now() - start;
    return nodes === NODES ? true : undefined;
  });
  return { answeredMs, allNodesMs: Date.now() - start };
}

let supervisorPid = 0;

before(() => {
  cli('lab', 'down');
  const up = labUp();
  assert.equal(up.code, 0, up.stderr + up.stdout);
  assert.match(up.stdout, /supervisor restarts relay and relay-forward/);
});

after(() => {
  cli('lab', 'down');
});

test('lab up starts the supervisor as a lab daemon; lab status shows it', () => {
  const status = labStatus();
  supervisorPid = status.supervisor.pid;
  assert.ok(status.supervisor.running, JSON.stringify(status.supervisor));
  assert.deepEqual(status.supervisor.watches, ['relay', 'relay-forward']);
  assert.equal(daemon('supervisor').pid, supervisorPid);
  assert.equal(status.relay.restarts, 0);
  assert.equal(relayNodes(), NODES);
  const text = cli('lab', 'status').stdout;
  assert.match(text, new RegExp(`supervisor: pid ${supervisorPid} running`));
});

test('a SIGKILLed relay is restarted: 127.0.0.1:4245 answers again within 10 s', async () => {
  const old = daemon('relay').pid;
  process.kill(old, 'SIGKILL');
  const back = await relayBack(10_000);
  console.log(
    `relay SIGKILL -> status answers in ${back.answeredMs} ms, ${NODES}/${NODES} nodes in ${back.allNodesMs} ms`,
  );
  const status = labStatus();
  assert.notEqual(status.relay.pid, old);
  assert.ok(status.relay.running);
  assert.equal(status.relay.restarts, 1);
  assert.equal(status.relay.lastRestart?.reason, 'killed by SIGKILL');
  assert.ok(Date.now() - Date.parse(status.relay.lastRestart?.at ?? '') < 15_000);
  assert.match(cli('lab', 'status').stdout, /relay: restarts 1, last \S+ \(killed by SIGKILL\)/);
});

test('a SIGKILLed root-namespace forward is restarted too', async () => {
  const old = daemon('relay-forward').pid;
  process.kill(old, 'SIGKILL');
  const back = await relayBack(10_000);
  console.log(`forward SIGKILL -> status answers in ${back.answeredMs} ms`);
  const status = labStatus();
  assert.notEqual(status.forward.pid, old);
  assert.equal(status.forward.restarts, 1);
  assert.equal(status.relay.restarts, 1, 'the relay itself was left alone');
});

test('lab stop relay keeps it down; lab start relay brings it back and it is watched again', async () => {
  const stop = cli('lab', 'stop', 'relay');
  assert.equal(stop.code, 0, stop.stderr);
  const stopped = daemon('relay');
  assert.ok(stopped.stoppedAt);
  // far beyond the first backoff steps: nothing may bring it back
  const until = Date.now() + 4000;
  while (Date.now() < until) {
    assert.equal(running(daemon('relay').pid), false, 'the stopped relay was restarted');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.equal(daemon('relay').pid, stopped.pid);
  assert.equal(relayNodes(), undefined, 'no relay answers on 127.0.0.1:4245');
  const status = labStatus();
  assert.equal(status.relay.running, false);
  assert.equal(status.relay.restarts, 1, 'a deliberate stop is no restart');
  assert.match(cli('lab', 'status').stdout, /relay: restarts 1, .*stopped on purpose at/);

  const start = cli('lab', 'start', 'relay');
  assert.equal(start.code, 0, start.stderr);
  await relayBack(10_000);
  assert.equal(daemon('relay').stoppedAt, undefined);
  // watched again: another crash is restarted
  process.kill(daemon('relay').pid, 'SIGKILL');
  await relayBack(10_000);
  assert.equal(labStatus().relay.restarts, 2);
});

test('agents are not supervised: a killed agent stays down', async () => {
  const agent = daemon('agent-node3').pid;
  process.kill(agent, 'SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 2000));
  assert.equal(daemon('agent-node3').pid, agent);
  assert.equal(running(agent), false);
});

test('lab down leaves no supervisor process behind', () => {
  assert.ok(running(supervisorPid));
  const down = cli('lab', 'down');
  assert.equal(down.code, 0, down.stderr);
  assert.equal(running(supervisorPid), false);
  const leftovers = readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return (
          readFileSync(`/proc/${e}/cmdline`, 'utf8').includes('supervisor-main.js') && running(Number(e))
        );
      } catch {
        return false;
      }
    });
  assert.deepEqual(leftovers, []);
});
