import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { flagMatrix } from './testdata/flag-matrix.js';
import { observeSnapshot, type Snapshot } from './testdata/snapshot.js';

// Recorded from the hand-written parser before the flag table replaced it (testdata/record.ts):
// the table must build the same FlowFilters and refuse the same inputs with the same words.
const recorded = JSON.parse(
  readFileSync(new URL('./testdata/flag-matrix.json', import.meta.url), 'utf8'),
) as Record<string, Snapshot>;

test('every argument list of the matrix parses as recorded', () => {
  assert.equal(Object.keys(recorded).length, flagMatrix.length, 'the fixture covers the matrix');
  for (const args of flagMatrix) {
    assert.deepEqual(observeSnapshot(args), recorded[JSON.stringify(args)], JSON.stringify(args));
  }
});
