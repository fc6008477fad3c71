import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { loadSpec, SpecError } from '../lab/spec.js';
import { LabError, labDown, labUp, preflightProblems, startComponent, stopComponent } from '../lab/lab.js';
import { LOG_DIR } from '../lab/names.js';
import { labStatus } from '../lab/status.js';

export const DEFAULT_SPEC = fileURLToPath(new URL('../../../../lab/cluster.yaml', import.meta.url));
const USAGE =
  'usage: wirescope lab up|down|status [--spec FILE] [-o text|json] | wirescope lab stop|start PROCESS (etcd, agent-NODE, pod-NS-NAME)';

export const command: Command = {
  summary: 'bring the network-namespace lab cluster up or down, or show it',
  async run(args) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        options: {
          spec: { type: 'string' },
          output: { type: 'string', short: 'o' },
          help: { type: 'boolean', short: 'h' },
        },
        allowPositionals: true,
        strict: true,
      });
    } catch (err) {
      throw new UsageError(`${(err as Error).message.split('\n')[0]}; ${USAGE}`);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const [action, ...extra] = positionals;
    if (action === 'stop' || action === 'start') {
      const [name, ...more] = extra;
      if (!name || more.length > 0) throw new UsageError(`lab ${action} takes one process name; ${USAGE}`);
      try {
        const daemon = action === 'stop' ? await stopComponent(name) : await startComponent(name);
        console.log(`${name}: ${action === 'stop' ? 'stopped' : `started, pid ${daemon.pid}`}`);
        return 0;
      } catch (err) {
        if (err instanceof LabError) throw new UsageError(err.message);
        console.error(`wirescope: ${(err as Error).message}`);
        return 1;
      }
    }
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"; ${USAGE}`);
    const output = values.output ?? 'text';
    if (output !== 'text' && output !== 'json')
      throw new UsageError(`-o "${output}" is not valid; accepted: text, json`);
    switch (action) {
      case 'up': {
        const file = values.spec ?? DEFAULT_SPEC;
        let spec;
        try {
          spec = loadSpec(file);
        } catch (err) {
          if (err instanceof SpecError) {
            console.error(
              `wirescope: invalid lab spec, nothing was created:\n${err.problems.map((p) => `  ${p}`).join('\n')}`,
            );
            return 2;
          }
          throw err;
        }
        const problems = await preflightProblems();
        if (problems.length > 0) throw new UsageError(`cannot start the lab: ${problems.join('; ')}`);
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
          console.log("next: 'wirescope lab status', 'wirescope encrypt status', 'wirescope lab down'");
        }
        return 0;
      }
      case 'down': {
        const removed = await labDown();
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
        return labStatus(output);
      case undefined:
        throw new UsageError(`missing action; ${USAGE}`);
      default:
        throw new UsageError(`unknown action "${action}"; accepted: up, down, status, stop, start`);
    }
  },
};
