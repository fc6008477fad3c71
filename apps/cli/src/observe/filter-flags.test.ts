import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterFlagOptions, filterRows } from './filter-flags.js';
import { observeUsage, parseObserveArgs } from './flags.js';

test('each filter row makes its flags: a sides row three (--X, --from-X, --to-X), the others one', () => {
  const made = filterRows.flatMap((row) => {
    const name = row.flag.slice(2);
    return 'sides' in row ? [name, `from-${name}`, `to-${name}`] : [name];
  });
  assert.deepEqual(Object.keys(filterFlagOptions), made);
  assert.ok(made.length >= 42, `${made.length} filter flags (hubble's and Wirescope's)`);
  for (const name of made) {
    assert.ok(observeUsage.includes(`--${name}`), `the usage lists --${name}`);
    assert.equal(filterFlagOptions[name]!.multiple, true, `--${name} repeats (values OR)`);
  }
});

test('a family member selects its side: --to-X ANDs the destination, --X ORs two filters', () => {
  const to = parseObserveArgs(['--to-fqdn', 'a.example', '--to-identity', '2']).request.whitelist;
  assert.equal(to.length, 1);
  assert.deepEqual(
    [to[0]!.destinationFqdn, to[0]!.destinationIdentity, to[0]!.sourceFqdn],
    [['a.example'], [2], []],
  );
  const either = parseObserveArgs(['--fqdn', 'a.example', '--verdict', 'DROPPED']).request.whitelist;
  assert.deepEqual(
    either.map((f) => [f.sourceFqdn, f.destinationFqdn, f.verdict]),
    [
      [['a.example'], [], [2]],
      [[], ['a.example'], [2]],
    ],
  );
});

test('the short alias belongs to the either-side flag of a family', () => {
  assert.equal(filterFlagOptions.namespace!.short, 'n');
  assert.equal(filterFlagOptions['from-namespace']!.short, undefined);
  assert.equal(filterFlagOptions.label!.short, 'l');
});
