import type { Command } from '../command.js';
import { parseSimpleArgs } from '../observe/simple.js';
import { processIo, runStatus } from '../observe/run.js';

const usage = 'usage: wirescope status [--server host:port|unix:///path] [-o text|json] [--tls ...]';

export const command: Command = {
  summary: 'Relay health: flows held and seen, flows/s, connected nodes',
  async run(args) {
    const opts = parseSimpleArgs(args, usage);
    return runStatus(opts.connect, processIo(), opts.json);
  },
};
