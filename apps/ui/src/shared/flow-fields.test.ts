// Encryption state and naming of flows in the lab's shapes (synthetic flows written as the agent
// emits them: the observation point, IP.encrypted and the Encryption extension).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dropReason,
  encryptionLabel,
  flowEncryption,
  nodePair,
  sourceName,
  type FlowView,
} from './flow-fields.js';

const ext = (e: Record<string, unknown>) => ({
  '@type': 'type.googleapis.com/wirescope.v1.Encryption',
  ...e,
});
const pods = {
  source: { namespace: 'shop', pod_name: 'frontend', identity: 263 },
  destination: { namespace: 'shop', pod_name: 'api', identity: 256 },
};

test('egress into WireGuard is encrypted, with its pair; the receiving side after decryption is delivered', () => {
  const out: FlowView = {
    ...pods,
    node_name: 'node1',
    trace_observation_point: 'FROM_ENDPOINT',
    IP: { encrypted: true },
    extensions: ext({ mechanism: 'MECHANISM_WIREGUARD', peer_node: 'node2' }),
  };
  assert.equal(flowEncryption(out), 'encrypted');
  assert.deepEqual(nodePair(out), { from: 'node1', to: 'node2' });
  assert.equal(encryptionLabel(out), 'WireGuard → node2');
  const delivered: FlowView = {
    ...pods,
    node_name: 'node2',
    trace_observation_point: 'TO_ENDPOINT',
    extensions: ext({ mechanism: 'MECHANISM_NONE', peer_node: 'node1' }),
  };
  assert.equal(flowEncryption(delivered), 'delivered');
  assert.deepEqual(nodePair(delivered), { from: 'node1', to: 'node2' });
});

test('cross-node egress outside the tunnel and underlay leaks are plaintext; same-node is apart', () => {
  const clear: FlowView = {
    ...pods,
    node_name: 'node1',
    trace_observation_point: 'FROM_ENDPOINT',
    extensions: ext({ mechanism: 'MECHANISM_NONE', peer_node: 'node3' }),
  };
  assert.equal(flowEncryption(clear), 'plaintext');
  const leak: FlowView = {
    ...clear,
    trace_observation_point: 'TO_NETWORK',
    extensions: ext({ leak: true, peer_node: 'node3' }),
  };
  assert.equal(flowEncryption(leak), 'plaintext');
  assert.equal(encryptionLabel(leak), 'LEAK (plaintext)');
  const same: FlowView = {
    ...pods,
    node_name: 'node1',
    trace_observation_point: 'TO_ENDPOINT',
    extensions: ext({}),
  };
  assert.equal(flowEncryption(same), 'same-node');
  assert.equal(nodePair(same), undefined);
  assert.equal(flowEncryption({ ...pods }), 'unknown', 'a stock Hubble flow has no encryption facts');
  const strictDrop: FlowView = { ...clear, verdict: 'DROPPED', drop_reason_desc: 'UNENCRYPTED_TRAFFIC' };
  assert.equal(flowEncryption(strictDrop), 'unknown', 'strict mode blocked it: nothing left in clear');
});

test('names and drop reasons', () => {
  assert.equal(sourceName({ ...pods }), 'shop/frontend');
  assert.equal(sourceName({ source: { identity: 2 }, IP: { source: '1.1.1.1' } }), '(world) 1.1.1.1');
  assert.equal(
    dropReason({ verdict: 'DROPPED', drop_reason_desc: 'UNENCRYPTED_TRAFFIC' }),
    'UNENCRYPTED_TRAFFIC',
  );
  assert.equal(
    dropReason({ verdict: 'DROPPED', extensions: ext({ kernel_drop_reason: 'NO_SOCKET' }) }),
    'kernel: NO_SOCKET',
  );
  assert.equal(dropReason({ verdict: 'FORWARDED' }), '');
});
