import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FilterSyntaxError,
  formatFilterEntry,
  observeFlags,
  parseFilterEntries,
  parseFilterEntry,
} from './filter-entry.js';

test("Hubble UI's grammar: [!][from:|to:]kind=value, labels by default", () => {
  assert.deepEqual(parseFilterEntry('from:pod=shop/frontend'), {
    negated: false,
    direction: 'from',
    kind: 'pod',
    value: 'shop/frontend',
  });
  assert.deepEqual(parseFilterEntry('!to:ip=10.0.0.1'), {
    negated: true,
    direction: 'to',
    kind: 'ip',
    value: '10.0.0.1',
  });
  assert.deepEqual(parseFilterEntry('app=frontend'), {
    negated: false,
    direction: 'either',
    kind: 'label',
    value: 'app=frontend',
  });
  assert.equal(parseFilterEntry('dns=db.data').kind, 'fqdn');
  assert.equal(formatFilterEntry(parseFilterEntry(' !from:namespace = shop ')), '!from:namespace=shop');
});

test('entries become the observe flags that select the same flows', () => {
  assert.deepEqual(
    observeFlags(
      parseFilterEntries([
        'pod=shop/frontend',
        'encrypted=false',
        'from:namespace=shop',
        '!verdict=DROPPED',
        'node=node1',
        'peer=node3',
        'drop-reason=POLICY_DENIED',
        'to:port=8080',
      ]),
    ),
    [
      '--pod',
      'shop/frontend',
      '--unencrypted',
      '--from-namespace',
      'shop',
      '--not',
      '--verdict',
      'DROPPED',
      '--node-name',
      'node1',
      '--peer',
      'node3',
      '--drop-reason-desc',
      'POLICY_DENIED',
      '--to-port',
      '8080',
    ],
  );
  assert.deepEqual(observeFlags(parseFilterEntries(['encrypted=true'])), ['--encrypted']);
});

test('mistakes are refused with the entry named', () => {
  assert.throws(() => parseFilterEntry('from:verdict=DROPPED'), FilterSyntaxError);
  assert.throws(() => parseFilterEntry('encrypted=maybe'), /encrypted= takes true or false/);
  assert.throws(() => parseFilterEntry('pod='), /"pod=": pod= needs a value/);
  assert.throws(() => parseFilterEntry('  '), /empty/);
  assert.deepEqual(parseFilterEntries(['', ' ']), []);
});
