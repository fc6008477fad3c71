import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalLabels, reservedIdentityFor } from './identity.js';

test('label order does not change the canonical form', () => {
  assert.equal(canonicalLabels({ b: '2', a: '1' }), canonicalLabels({ a: '1', b: '2' }));
  assert.equal(canonicalLabels({ b: '2', a: '1' }), 'a=1;b=2');
});

test('reserved label sets map to the fixed identities 1..6', () => {
  assert.equal(reservedIdentityFor({ 'reserved:host': '' }), 1);
  assert.equal(reservedIdentityFor({ 'reserved:world': '' }), 2);
  assert.equal(reservedIdentityFor({ 'reserved:remote-node': '' }), 6);
  assert.equal(reservedIdentityFor({ 'reserved:host': '', app: 'x' }), undefined);
  assert.equal(reservedIdentityFor({ app: 'x' }), undefined);
});
