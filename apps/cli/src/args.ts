import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './command.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util parseArgs for a command, strict, with its errors turned into one-line UsageErrors
 * that end with the command's usage. A string option not declared `multiple` may be given once:
 * parseArgs would keep the last silently (`--node a --node b` acting on b alone).
 */
export function parseCommandArgs<O extends Options>(
  args: string[],
  options: O,
  usage: string,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>> {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]}; ${usage}`);
  }
  const given = new Map<string, string[]>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    const option = options[token.name];
    if (option?.type !== 'string' || option.multiple) continue;
    const values = given.get(token.name) ?? [];
    values.push(token.value ?? '');
    given.set(token.name, values);
  }
  for (const [name, values] of given) {
    if (values.length > 1)
      throw new UsageError(
        `--${name} given ${values.length} times (${values.map((v) => `"${v}"`).join(', ')}); it takes one value; ${usage}`,
      );
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** `-o text|json`, the two outputs of the lab and encrypt commands. */
export function textOrJson(output: unknown): 'text' | 'json' {
  const value = output ?? 'text';
  if (value !== 'text' && value !== 'json')
    throw new UsageError(`-o "${String(value)}" is not valid; accepted: text, json`);
  return value;
}
