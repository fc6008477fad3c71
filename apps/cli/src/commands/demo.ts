import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import {
  DEFAULT_SPEC,
  RELAY_SOCKET,
  etcdForwardSocket,
  labDown,
  labUp,
  listenLoopback,
} from '@wirescope/lab';
import { parseObserveArgs } from '../observe/flags.js';
import { runObserve } from '../observe/run.js';
import { specForLabUp } from './lab-prepare.js';
import { parseCommandArgs } from '../args.js';
import { printLabStatus } from './lab-status.js';

const USAGE = 'usage: wirescope demo [--spec FILE] [--etcd-port PORT]';

export const command: Command = {
  summary: 'bring the lab up, show how to look at it, keep it running until Ctrl-C, then remove it',
  async run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      { spec: { type: 'string' }, 'etcd-port': { type: 'string' } },
      USAGE,
    );
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"; ${USAGE}`);
    const etcdPort = Number(values['etcd-port'] ?? '23790');
    if (!Number.isInteger(etcdPort) || etcdPort < 0 || etcdPort > 65535) {
      throw new UsageError(
        `--etcd-port "${values['etcd-port']}" is not valid; accepted: 0-65535 (0 = any free port)`,
      );
    }
    const spec = await specForLabUp(values.spec ?? DEFAULT_SPEC);
    if (typeof spec === 'number') return spec;
    let result;
    try {
      result = await labUp(spec, (m) => console.log(m));
    } catch (err) {
      console.error(`wirescope: lab up failed: ${(err as Error).message}; removing what was made`);
      await labDown();
      return 1;
    }
    const ours = result.status === 'started';
    if (!ours) console.log('lab was already running; the demo will leave it running on exit');
    console.log('');
    await printLabStatus('text');
    let forward;
    try {
      forward = await listenLoopback(etcdPort, etcdForwardSocket);
    } catch (err) {
      console.log(`(etcd forward on 127.0.0.1:${etcdPort} unavailable: ${(err as Error).message})`);
    }
    console.log(
      [
        '',
        'Look at it:',
        '  npx wirescope observe -f              # live flows from every node through the relay (🔒 = encrypted)',
        '  npx wirescope status                  # the whole cluster through the relay: nodes connected, flows/s',
        '  npx wirescope encrypt status          # WireGuard mesh: peers, handshakes, bytes',
        '  npx wirescope lab status              # nodes, pods, agents, etcd, Prometheus targets',
        '  http://127.0.0.1:12000                # the web UI: service map, flows, encryption coverage, handshakes',
        '  http://127.0.0.1:9090/targets         # Prometheus: every agent (:9965) and the relay (:9966), up',
        '  http://127.0.0.1:9090/alerts          # Wirescope alert rules (the lab fires them after 4 s)',
        '  http://127.0.0.1:9093                 # Alertmanager; deliveries: /run/wirescope-lab/monitoring/alerts.jsonl',
        ...(forward
          ? [`  etcdctl --endpoints 127.0.0.1:${forward.port} get --prefix /wirescope --keys-only`]
          : []),
        '  ip netns exec wsl-fabric tcpdump -ni br0 udp port 51871   # only encrypted traffic on the fabric',
        '  tail -f /run/wirescope-lab/logs/*.log',
        '',
        `Press Ctrl-C to stop${ours ? ' and remove the lab' : ''}.`,
      ].join('\n'),
    );
    console.log(
      `\nLive flows from ${spec.nodes.map((n) => n.name).join(', ')} through the relay (eBPF datapath; encryption shown per flow):`,
    );
    const interrupted = new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    // what `wirescope observe -f --print-node-name` shows: the relay's merged stream, as a user sees it
    await runObserve(
      parseObserveArgs(['--server', `unix://${RELAY_SOCKET}`, '--follow', '--print-node-name']),
      {
        out: (line) => console.log(line),
        err: (line) => console.error(line),
        isTty: process.stdout.isTTY === true,
        interrupted,
      },
    );
    await interrupted;
    forward?.close();
    if (ours) {
      console.log('\nremoving the lab...');
      const removed = await labDown();
      console.log(`lab removed: ${removed.namespaces.length} namespaces, ${removed.processes} processes`);
    }
    return 0;
  },
};
