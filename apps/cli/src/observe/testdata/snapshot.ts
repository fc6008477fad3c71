// A JSON-comparable form of parseObserveArgs' outcome: the options it returns, or the UsageError.
import { UsageError } from '../../command.js';
import { parseObserveArgs } from '../flags.js';

/** The instant relative --since/--until are taken from, so the fixture does not depend on the clock. */
export const matrixNow = Date.UTC(2026, 10, 21, 12, 0, 0);

export type Snapshot = { options: unknown } | { usageError: string };

export function observeSnapshot(args: string[]): Snapshot {
  try {
    const options = parseObserveArgs(args, matrixNow);
    return { options: JSON.parse(JSON.stringify(options, plainValue)) as unknown };
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    // the help text is generated from the flag table and may change layout; that it is shown is what counts
    if (err.message.startsWith('usage: wirescope observe'))
      return { usageError: 'usage: wirescope observe …' };
    return { usageError: err.message };
  }
}

/** JSON without proto3 defaults (empty lists, zeros, false, ""), which mean the same as absent. */
function plainValue(key: string, value: unknown): unknown {
  if (key === '$typeName') return undefined;
  if (typeof value === 'bigint') return value === 0n ? undefined : `${value}n`;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value) && value.length === 0) return undefined;
  if (value === false || value === 0 || value === '') return undefined;
  return value;
}
