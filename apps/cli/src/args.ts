// The CLI's one argument parser: node:util parseArgs and its tokens. Commands with positionals
// (lab, encrypt, demo) take parseArgs' own strict errors; the flag-only commands (observe, status,
// list, handshakes) read the tokens in order — --not negates the flag after it — and word errors
// as hubble does ("--pod needs a value"). Both refuse a single-valued flag given twice.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './command.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** A parseArgs token, as node:util documents it (its own type narrows poorly for open options). */
type Token =
  | { kind: 'option'; index: number; name: string; rawName: string; value?: string | undefined }
  | { kind: 'positional'; index: number; value: string }
  | { kind: 'option-terminator'; index: number };

/** One flag as given: its option name, the spelling used (--output or -o), its value if it takes one. */
export interface GivenFlag {
  name: string;
  flag: string;
  value?: string | undefined;
}

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
  const given = parsed.tokens.flatMap((t) =>
    t.kind === 'option' ? [{ name: t.name, flag: t.rawName, value: t.value }] : [],
  );
  refuseRepeatedValues(given, options, (name) => `--${name}`, `; ${usage}`);
  return { values: parsed.values, positionals: parsed.positionals };
}

export interface FlagCommand {
  /** The command's name in error hints ("observe", "list nodes"). */
  name?: string | undefined;
  /** Thrown as a UsageError when the `help` option is given (before a repeated flag is refused). */
  usage: string;
}

/**
 * The flags of a command that takes only flags, in the order given. Unknown flags, positionals,
 * a value flag without its value and a boolean flag with one are refused naming the argument;
 * so are short flags run together or with their value attached (-fD, -ojson), which hubble's
 * CLI does not take either.
 */
export function readFlags(args: string[], options: Options, command: FlagCommand): GivenFlag[] {
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  const given = (tokens as Token[]).map((token) => checkedFlag(token, args, options, command.name));
  if (given.some((g) => g.name === 'help')) throw new UsageError(command.usage);
  refuseRepeatedValues(given, options, (name) => {
    const short = options[name]?.short;
    return short ? `--${name}/-${short}` : `--${name}`;
  });
  return given;
}

function checkedFlag(token: Token, args: string[], options: Options, command?: string): GivenFlag {
  const unknown = (flag: string) =>
    new UsageError(`unknown flag ${flag} (see ${command ? `wirescope ${command} ` : ''}--help)`);
  if (token.kind === 'option-terminator') throw unknown('--');
  if (token.kind === 'positional')
    throw new UsageError(
      `unexpected argument "${token.value}": ${command ?? 'this command'} takes only flags (see --help)`,
    );
  const typed = args[token.index]!;
  if (!token.rawName.startsWith('--') && typed !== token.rawName) throw unknown(typed);
  const option = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
  if (!option) throw unknown(token.rawName);
  if (option.type === 'string' && token.value === undefined)
    throw new UsageError(`${token.rawName} needs a value`);
  if (option.type === 'boolean' && token.value !== undefined)
    throw new UsageError(`${token.rawName} takes no value`);
  return { name: token.name, flag: token.rawName, value: token.value };
}

/**
 * Refuses a string option not declared `multiple` given more than once, quoting every value
 * (options checked in the order they are declared, so the first such option reported is stable).
 */
function refuseRepeatedValues(
  given: readonly GivenFlag[],
  options: Options,
  label: (name: string) => string,
  suffix = '',
): void {
  for (const [name, option] of Object.entries(options)) {
    if (option.type !== 'string' || option.multiple) continue;
    const values = given.filter((g) => g.name === name).map((g) => `"${g.value ?? ''}"`);
    if (values.length > 1)
      throw new UsageError(
        `${label(name)} given ${values.length} times (${values.join(', ')}); it takes one value${suffix}`,
      );
  }
}

/** `-o text|json`, the two outputs of the lab and encrypt commands. */
export function textOrJson(output: unknown): 'text' | 'json' {
  const value = output ?? 'text';
  if (value !== 'text' && value !== 'json')
    throw new UsageError(`-o "${String(value)}" is not valid; accepted: text, json`);
  return value;
}
