import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, equals, toBinary } from '@bufbuild/protobuf';
import { EndpointSchema, FlowSchema, IPSchema, Layer4Schema, TCPFlagsSchema } from './gen/flow/flow_pb.js';
import { EncryptionSchema, Mechanism } from './gen/wirescope/v1/wirescope_pb.js';
import { encryptionOf, packedEncryption } from './encryption.js';
import { messageFactory } from './factory.js';

test('a factory gives what create(schema) gives, with mutable members of its own', () => {
  for (const schema of [
    FlowSchema,
    EndpointSchema,
    IPSchema,
    Layer4Schema,
    TCPFlagsSchema,
    EncryptionSchema,
  ]) {
    const make = messageFactory(schema);
    const a = make();
    assert.deepEqual(a, create(schema), schema.typeName);
    assert.deepEqual(Object.keys(a), Object.keys(create(schema)), `${schema.typeName} key order`);
    assert.ok(equals(schema, a as never, create(schema) as never));
  }
  const make = messageFactory(FlowSchema);
  const a = make();
  const b = make();
  a.sourceNames.push('x.example');
  assert.equal(a.l4, undefined);
  assert.deepEqual(b.sourceNames, [], 'lists are not shared');
  assert.notEqual(a.egressAllowedBy, b.egressAllowedBy);
  assert.deepEqual(toBinary(FlowSchema, b), toBinary(FlowSchema, create(FlowSchema)));
});

test('packedEncryption packs the same bytes as toBinary and shares one Any per distinct facts', () => {
  const facts = { mechanism: Mechanism.WIREGUARD, peerNode: 'node2', receiverIndex: 7, leak: false };
  const any = packedEncryption(facts);
  assert.deepEqual(any.value, toBinary(EncryptionSchema, create(EncryptionSchema, facts)));
  assert.equal(packedEncryption({ ...facts }), any, 'the same facts share one Any');
  assert.notEqual(packedEncryption({ ...facts, receiverIndex: 8 }), any);
  const flow = create(FlowSchema, { extensions: any });
  assert.equal(encryptionOf(flow)?.peerNode, 'node2');
});
