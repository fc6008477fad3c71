import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './command.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util parseArgs for a command, strict, with its errors turned into one-line UsageErrors
 * that end with the command's usage.
 */
export function parseCommandArgs<O extends Options>(
  args: string[],
  options: O,
  usage: string,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]}; ${usage}`);
  }
}

/** `-o text|json`, the two outputs of the lab and encrypt commands. */
export function textOrJson(output: unknown): 'text' | 'json' {
  const value = output ?? 'text';
  if (value !== 'text' && value !== 'json')
    throw new UsageError(`-o "${String(value)}" is not valid; accepted: text, json`);
  return value;
}
