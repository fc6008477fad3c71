// Flag parsing for the small commands (status, list nodes, handshakes).
import { readFlags, type Options } from '../args.js';
import { UsageError } from '../command.js';
import { connectFlagOptions, connectFlagValues, connectOptions, type ConnectOptions } from './connect.js';

export interface SimpleOptions {
  connect: ConnectOptions;
  json: boolean;
  /** The command's own flags, keyed by their long name ("--follow" also when -f was typed). */
  values: Map<string, string | true>;
}

/**
 * Parses connection flags, -o text|table|json, and the command's own single-valued `extraValues`
 * and boolean `extraBools` flags ("--last"; a "-f" entry is the short form of the flag before it).
 */
export function parseSimpleArgs(
  args: string[],
  usage: string,
  extraValues: string[] = [],
  extraBools: string[] = [],
): SimpleOptions {
  const options: Options = {
    ...connectFlagOptions,
    output: { type: 'string', short: 'o' },
    help: { type: 'boolean', short: 'h' },
    ...extraOptions(extraValues, 'string'),
    ...extraOptions(extraBools, 'boolean'),
  };
  const given = readFlags(args, options, { name: commandOf(usage), usage });
  const values = new Map<string, string | true>();
  let json = false;
  for (const g of given) {
    if (g.name === 'output') {
      if (g.value !== 'json' && g.value !== 'table' && g.value !== 'text')
        throw new UsageError(`-o "${String(g.value)}" is unknown; accepted: text, json`);
      json = g.value === 'json';
    } else if (!Object.hasOwn(connectFlagOptions, g.name)) values.set(`--${g.name}`, g.value ?? true);
  }
  return { connect: connectOptions(connectFlagValues(given)), json, values };
}

function extraOptions(flags: string[], type: 'string' | 'boolean'): Options {
  const options: Options = {};
  let last: string | undefined;
  for (const flag of flags) {
    if (flag.startsWith('--')) options[(last = flag.slice(2))] = { type };
    else if (last) options[last] = { type, short: flag.slice(1) };
  }
  return options;
}

/** "list nodes" from "usage: wirescope list nodes [--server …]", for the error hints. */
function commandOf(usage: string): string | undefined {
  return /^usage: wirescope ([a-z][a-z -]*?)(?= \[| -|$)/.exec(usage)?.[1];
}
