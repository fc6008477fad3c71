import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { parseSimpleArgs } from '../observe/simple.js';
import { processIo, runListNodes } from '../observe/run.js';

const usage = 'usage: wirescope list nodes [--server host:port|unix:///path] [-o text|json] [--tls ...]';

export const command: Command = {
  summary: 'List the nodes the relay knows, with their state and flow counts',
  async run(args) {
    const [what, ...rest] = args;
    if (what === '--help' || what === '-h') throw new UsageError(usage);
    if (what !== 'nodes') throw new UsageError(`list "${what ?? ''}" is unknown; accepted: nodes`);
    const opts = parseSimpleArgs(rest, usage);
    return runListNodes(opts.connect, processIo(), opts.json);
  },
};
