#!/usr/bin/env node
import type { Command } from './command.js';
import { UsageError } from './command.js';

// Lazy so that `wirescope lab` does not load gRPC and `observe` does not load the lab.
// Add a command by adding one line here and one module under commands/.
const commands: Record<string, () => Promise<{ command: Command }>> = {
  lab: () => import('./commands/lab.js'),
  encrypt: () => import('./commands/encrypt.js'),
  demo: () => import('./commands/demo.js'),
  observe: () => import('./commands/observe.js'),
  status: () => import('./commands/status.js'),
  list: () => import('./commands/list.js'),
  handshakes: () => import('./commands/handshakes.js'),
  policy: () => import('./commands/policy.js'),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const lines = ['usage: wirescope <command> [flags]', '', 'commands:'];
    for (const [cmd, load] of Object.entries(commands)) {
      lines.push(`  ${cmd.padEnd(12)} ${(await load()).command.summary}`);
    }
    console.log(lines.join('\n'));
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) throw new UsageError(`unknown command "${name}"; accepted: ${Object.keys(commands).join(', ')}`);
  return (await load()).command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`wirescope: ${err.message}`);
      process.exitCode = 2;
    } else {
      console.error(`wirescope: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exitCode = 1;
    }
  },
);
