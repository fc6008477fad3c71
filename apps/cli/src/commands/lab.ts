// `wirescope lab`: a thin front for @wirescope/lab (flags, messages, exit codes).
import {
  DEFAULT_SPEC,
  LOG_DIR,
  PREFIX,
  LabError,
  forwardIntoNamespace,
  labDown,
  labNamespaces,
  labUp,
  startComponent,
  stopComponent,
} from '@wirescope/lab';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { specForLabUp } from './lab-prepare.js';
import { parseCommandArgs, textOrJson } from '../args.js';
import { keepGoingWhenOutputCloses } from '../output.js';
import { printLabStatus } from './lab-status.js';
const USAGE =
  'usage: wirescope lab up|down|status [--spec FILE] [-o text|json] | wirescope lab stop|start PROCESS (etcd, agent-NODE, relay, relay-forward, supervisor, pod-NS-NAME) | wirescope lab forward NETNS HOST:PORT [--local-port PORT]';

export const command: Command = {
  summary: 'bring the network-namespace lab cluster up or down, or show it',
  async run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        spec: { type: 'string' },
        'local-port': { type: 'string' },
        output: { type: 'string', short: 'o' },
        help: { type: 'boolean', short: 'h' },
      },
      USAGE,
    );
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    keepGoingWhenOutputCloses();
    const [action, ...extra] = positionals;
    if (action === 'forward') return forward(extra, values['local-port']);
    if (action === 'stop' || action === 'start') {
      const [name, ...more] = extra;
      if (!name || more.length > 0) throw new UsageError(`lab ${action} takes one process name; ${USAGE}`);
      try {
        if (action === 'stop') {
          const { wasRunning } = await stopComponent(name);
          console.log(
            `${name}: ${wasRunning ? 'stopped' : 'was not running; marked stopped'} (stays down until 'wirescope lab start ${name}')`,
          );
        } else {
          console.log(`${name}: started, pid ${(await startComponent(name)).pid}`);
        }
        return 0;
      } catch (err) {
        if (err instanceof LabError) throw new UsageError(err.message);
        console.error(`wirescope: ${(err as Error).message}`);
        return 1;
      }
    }
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"; ${USAGE}`);
    const output = textOrJson(values.output);
    switch (action) {
      case 'up': {
        const file = values.spec ?? DEFAULT_SPEC;
        const spec = await specForLabUp(file);
        if (typeof spec === 'number') return spec;
        let result;
        try {
          result = await labUp(spec, (message) => console.log(message));
        } catch (err) {
          console.error(
            `wirescope: lab up failed: ${(err as Error).message}\n  logs: ${LOG_DIR}/*.log; remove what was made with 'wirescope lab down'`,
          );
          return 1;
        }
        if (result.status === 'already-running') {
          console.log(
            `lab already running since ${result.state.startedAt} (spec ${result.state.spec.file}); nothing changed. ` +
              "Use 'wirescope lab status' to look at it or 'wirescope lab down' to remove it.",
          );
        } else {
          console.log(
            "next: 'npx wirescope observe -f', 'npx wirescope status', 'npx wirescope encrypt status', 'npx wirescope lab status', 'npx wirescope lab down'",
          );
        }
        return 0;
      }
      case 'down': {
        const removed = await labDown((message) => console.log(message));
        if (removed.namespaces.length === 0 && removed.processes === 0) {
          console.log('lab is not running; nothing to remove');
        } else {
          console.log(
            `lab removed: ${removed.namespaces.length} namespaces, ${removed.processes} processes, /run/wirescope-lab`,
          );
        }
        return 0;
      }
      case 'status':
        return printLabStatus(output);
      case undefined:
        throw new UsageError(`missing action; ${USAGE}`);
      default:
        throw new UsageError(`unknown action "${action}"; accepted: up, down, status, stop, start, forward`);
    }
  },
};

/**
 * `lab forward NETNS HOST:PORT`: like kubectl port-forward, 127.0.0.1:LOCAL in the root namespace
 * to HOST:PORT inside a lab namespace, through a unix socket; runs until Ctrl-C.
 */
async function forward(args: string[], localPortFlag: string | undefined): Promise<number> {
  const [namespace, target, ...more] = args;
  if (!namespace || !target || more.length > 0)
    throw new UsageError(`lab forward takes NETNS HOST:PORT; ${USAGE}`);
  const namespaces = await labNamespaces();
  if (!namespace.startsWith(`${PREFIX}-`) || !namespaces.includes(namespace)) {
    throw new UsageError(
      `"${namespace}" is not a lab namespace; accepted: ${namespaces.join(', ') || "(none: run 'wirescope lab up')"}`,
    );
  }
  const match = /^([\w.-]+):(\d{1,5})$/.exec(target);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535)
    throw new UsageError(`"${target}" is not valid; accepted: HOST:PORT such as 127.0.0.1:4245`);
  const localPort = Number(localPortFlag ?? port);
  if (!Number.isInteger(localPort) || localPort < 0 || localPort > 65535) {
    throw new UsageError(
      `--local-port "${localPortFlag}" is not valid; accepted: 0-65535 (0 = any free port)`,
    );
  }
  let forward;
  try {
    forward = await forwardIntoNamespace(namespace, match[1] ?? '127.0.0.1', port, localPort);
  } catch (err) {
    console.error(`wirescope: ${(err as Error).message}`);
    return 1;
  }
  console.log(`forwarding 127.0.0.1:${forward.port} -> ${namespace} ${target} (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  forward.close();
  return 0;
}
