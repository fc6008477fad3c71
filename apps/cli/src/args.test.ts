import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from './command.js';
import { parseCommandArgs } from './args.js';

const options = {
  node: { type: 'string' },
  label: { type: 'string', multiple: true },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

test('a string option given twice is refused naming it, instead of keeping the last', () => {
  assert.throws(
    () => parseCommandArgs(['rotate-key', '--node', 'node1', '--node', 'node2'], options, 'usage: x'),
    (err: unknown) =>
      err instanceof UsageError &&
      err.message === '--node given 2 times ("node1", "node2"); it takes one value; usage: x',
  );
  assert.throws(
    () => parseCommandArgs(['-o', 'json', '--output=text'], options, 'usage: x'),
    /^UsageError: --output given 2 times \("json", "text"\)/,
  );
});

test('once each, multiple options and repeated booleans still parse', () => {
  const { values, positionals } = parseCommandArgs(
    ['status', '--node', 'node1', '--label', 'a', '--label', 'b', '-h', '-h'],
    options,
    'usage: x',
  );
  assert.deepEqual(positionals, ['status']);
  assert.equal(values.node, 'node1');
  assert.deepEqual(values.label, ['a', 'b']);
  assert.equal(values.help, true);
});
