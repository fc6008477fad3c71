import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { parseSimpleArgs } from '../observe/simple.js';
import { processIo, runHandshakes } from '../observe/run.js';

const usage =
  'usage: wirescope handshakes [--last N] [--follow] [--peer NODE] [-o text|json] [--server host:port|unix:///path]';

export const command: Command = {
  summary: 'Recent WireGuard handshakes per peer pair, with their round trip',
  async run(args) {
    const opts = parseSimpleArgs(args, usage, ['--last', '--peer'], ['--follow', '-f']);
    const last = opts.values.get('--last');
    if (last !== undefined && !/^\d+$/.test(String(last)))
      throw new UsageError(`--last "${String(last)}" is not a number`);
    return runHandshakes(
      opts.connect,
      processIo(),
      {
        number: BigInt(last === undefined ? 20 : String(last)),
        follow: opts.values.has('--follow'),
        peerNode: String(opts.values.get('--peer') ?? ''),
      },
      opts.json,
    );
  },
};
