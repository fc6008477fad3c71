// The issue-2 demo: a throwaway pair of network namespaces joined by a veth pair, the probe
// attached to tc ingress and egress of one end, pings (IPv4 and IPv6) and TCP connects across,
// and every decoded event printed live. Ctrl-C (or --duration N seconds) cleans everything up.
//
//   npm run demo:probe            (or: node --import tsx scripts/probe-demo.ts [--duration 10])
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { bpfObject } from '@wirescope/bpf';
import { BpfError, BpfObject, requireRoot } from '@wirescope/libbpf';
import { EventDecoder, formatProbeEvent } from '@wirescope/events';

const PREFIX = 'wsdemo-';
const NS_A = `${PREFIX}a`;
const NS_B = `${PREFIX}b`;
const IF_A = `${PREFIX}va`;
const IF_B = `${PREFIX}vb`;
const IP_A = '10.251.0.1';
const IP_B = '10.251.0.2';
const IP6_A = 'fd00:251::1';
const IP6_B = 'fd00:251::2';
const PROBE_OBJECT = bpfObject('probe');

function parseDuration(argv: string[]): number | undefined {
  const i = argv.indexOf('--duration');
  if (i < 0) return undefined;
  const seconds = Number(argv[i + 1]);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    console.error(
      `probe-demo: --duration needs a positive number of seconds, got ${argv[i + 1] ?? 'nothing'}`,
    );
    process.exit(2);
  }
  return seconds;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function removeNamespaces(): void {
  // deleting a namespace removes the veth end inside it, and with it the peer and filters
  for (const ns of [NS_A, NS_B]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
}

function createNamespaces(): number {
  removeNamespaces(); // leftovers of a crashed run
  ip('netns', 'add', NS_A);
  ip('netns', 'add', NS_B);
  ip('link', 'add', IF_A, 'netns', NS_A, 'type', 'veth', 'peer', 'name', IF_B, 'netns', NS_B);
  for (const [ns, dev, v4, v6] of [
    [NS_A, IF_A, IP_A, IP6_A],
    [NS_B, IF_B, IP_B, IP6_B],
  ] as const) {
    ip('-n', ns, 'addr', 'add', `${v4}/24`, 'dev', dev);
    ip('-n', ns, 'addr', 'add', `${v6}/64`, 'dev', dev, 'nodad');
    ip('-n', ns, 'link', 'set', dev, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  const [link] = JSON.parse(
    execFileSync('ip', ['-n', NS_A, '-j', 'link', 'show', IF_A], { encoding: 'utf8' }),
  ) as { ifindex: number }[];
  return link?.ifindex ?? 0;
}

function main(): void {
  try {
    requireRoot('the probe demo', 'sudo npm run demo:probe');
  } catch (err) {
    console.error(`probe-demo: ${(err as Error).message}`);
    process.exit(1);
  }
  const duration = parseDuration(process.argv.slice(2));
  const children: ChildProcess[] = [];
  const timers: NodeJS.Timeout[] = [];
  let probe: BpfObject | undefined;
  let stopped = false;
  const decoder = new EventDecoder();
  let printed = 0;

  const stop = (code: number, why: string) => {
    if (stopped) return;
    stopped = true;
    for (const t of timers) clearInterval(t);
    for (const child of children) if (child.exitCode === null) child.kill();
    let lost = 0n;
    try {
      lost = probe?.closed === false ? probe.map('lost_events').sumPerCpuU64(Buffer.alloc(4)) : 0n;
      probe?.close();
    } catch (err) {
      console.error(`probe-demo: while detaching: ${(err as Error).message}`);
    }
    removeNamespaces();
    const s = decoder.stats;
    console.log(
      `\nprobe-demo: ${why}; ${printed} events shown, ${lost} lost, ${s.truncated + s.badMagic + s.unknownVersion + s.unknownType} undecodable; namespaces ${NS_A} and ${NS_B} removed`,
    );
    process.exit(code);
  };
  process.once('SIGINT', () => stop(0, 'interrupted'));
  process.once('SIGTERM', () => stop(0, 'terminated'));

  try {
    const ifindex = createNamespaces();
    probe = BpfObject.load(PROBE_OBJECT);
    probe.openRingBuffer('events', (batch) => {
      for (const event of decoder.decodeBatch(batch)) {
        if (event.kind !== 'probe') continue;
        printed++;
        const t = new Date().toISOString().slice(11, 23);
        console.log(`${t} ${formatProbeEvent(event)}`);
      }
    });
    probe.attachTc('probe_ingress', { ifname: IF_A, direction: 'ingress', netns: NS_A });
    probe.attachTc('probe_egress', { ifname: IF_A, direction: 'egress', netns: NS_A });
    console.log(
      `probe-demo: probe attached to tc ingress+egress of ${IF_A} (ifindex ${ifindex}) in netns ${NS_A}; ` +
        `pinging ${IP_A} and ${IP6_A} from ${NS_B}, TCP connects every 3 s. Ctrl-C to stop.`,
    );
    for (const target of [
      ['-4', IP_A],
      ['-6', IP6_A],
    ]) {
      const ping = spawn('ip', ['netns', 'exec', NS_B, 'ping', ...target, '-i', '1', '-q'], {
        stdio: 'ignore',
      });
      ping.on('error', (err) => stop(1, `ping failed: ${err.message}`));
      children.push(ping);
    }
    timers.push(
      setInterval(() => {
        // a SYN to a closed port: the RST|ACK answer shows TCP flags in both directions
        const connect = spawn('ip', ['netns', 'exec', NS_B, 'bash', '-c', `exec 3<>/dev/tcp/${IP_A}/80`], {
          stdio: 'ignore',
        });
        children.push(connect);
      }, 3000),
    );
    if (duration !== undefined) setTimeout(() => stop(0, `ran for ${duration} s`), duration * 1000);
  } catch (err) {
    const detail = err instanceof BpfError ? `${err.step}: ${err.message}` : (err as Error).message;
    console.error(`probe-demo: ${detail}`);
    stop(1, 'failed');
  }
}

main();
