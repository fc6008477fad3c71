import type { Command } from '../command.js';
import { parseObserveArgs } from '../observe/flags.js';
import { processIo, runObserve } from '../observe/run.js';

export const command: Command = {
  summary: 'Watch flows through the relay (hubble observe flags, plus --encrypted/--mechanism/--peer)',
  async run(args) {
    return runObserve(parseObserveArgs(args), processIo());
  },
};
