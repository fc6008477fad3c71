// Flag parsing for the small commands (status, list nodes, handshakes).
import { UsageError } from '../command.js';
import { connectBoolFlags, connectFlags, connectOptions, type ConnectOptions } from './connect.js';
import { refuseRepeats, singleConnectFlags, tokenize } from './flags.js';

export interface SimpleOptions {
  connect: ConnectOptions;
  json: boolean;
  values: Map<string, string | true>;
}

/** Parses connection flags, -o table|json, and the command's own `extra` value/bool flags. */
export function parseSimpleArgs(
  args: string[],
  usage: string,
  extraValues: string[] = [],
  extraBools: string[] = [],
): SimpleOptions {
  const flags = tokenize(
    args,
    new Set([...connectFlags, '--output', '-o', ...extraValues]),
    new Set([...connectBoolFlags, '--help', '-h', ...extraBools]),
  );
  refuseRepeats(flags, [...singleConnectFlags, ['--output', '-o'], ...extraValues.map((f) => [f])]);
  const values = new Map<string, string | true>();
  let json = false;
  for (const f of flags) {
    if (f.name === '--help' || f.name === '-h') throw new UsageError(usage);
    if (f.name === '--output' || f.name === '-o') {
      if (f.value !== 'json' && f.value !== 'table' && f.value !== 'text')
        throw new UsageError(`-o "${String(f.value)}" is unknown; accepted: text, json`);
      json = f.value === 'json';
      continue;
    }
    values.set(f.name, f.value);
  }
  const conn = new Map([...values].filter(([k]) => connectFlags.includes(k) || connectBoolFlags.includes(k)));
  return { connect: connectOptions(conn), json, values };
}
