import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_INTERFACE_NAME,
  MAX_SOCKET_PATH,
  agentDaemon,
  agentDir,
  derivedNameClashes,
  fabricPort,
  fitName,
  hubbleSocket,
  lxcInterface,
  nodeNamespace,
  podNamespace,
  socketIn,
  wireguardInterface,
} from './names.js';

const LONGEST = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
const NODES = [
  'node1',
  'worker-1',
  'worker-10',
  'worker-11',
  'ip-10-0-1-12.ec2.internal',
  'ip-10-0-1-13.ec2.internal',
  'kind-worker2',
  'kind-worker',
  'x',
  LONGEST,
];

test('short simple names are kept as written: the default lab looks as it always did', () => {
  assert.equal(wireguardInterface('node1'), 'wsl-wg-node1');
  assert.equal(wireguardInterface('worker-1'), 'wsl-wg-worker-1');
  assert.equal(fabricPort('worker-10'), 'fab-worker-10');
  assert.equal(nodeNamespace('ip-10-0-1-12.ec2.internal'), 'wsl-ip-10-0-1-12.ec2.internal');
  assert.equal(agentDir('node2'), '/run/wirescope-lab/node2');
  assert.equal(agentDaemon('node3'), 'agent-node3');
  assert.equal(podNamespace({ node: 'node1', namespace: 'shop', name: 'loadgen' }), 'wsl-node1-shop-loadgen');
});

test('a name that does not fit becomes a readable head plus a stable hash of the whole name', () => {
  const wg = wireguardInterface('ip-10-0-1-12.ec2.internal');
  assert.match(wg, /^wsl-wg-ip-[0-9a-f]{4}$/);
  assert.equal(wireguardInterface('ip-10-0-1-12.ec2.internal'), wg, 'stable');
  assert.notEqual(wireguardInterface('ip-10-0-1-13.ec2.internal'), wg);
  assert.match(fabricPort('kind-worker2'), /^fab-kind-w-[0-9a-f]{4}$/);
  // dots are no interface character (sysctl paths), even in a name short enough to keep
  assert.match(fitName('fab-', 'a.b', MAX_INTERFACE_NAME), /^fab-a-b-[0-9a-f]{4}$/);
  assert.equal(fitName('', 'a.b', 63, 'file'), 'a.b');
  assert.throws(() => fitName('prefix-too-long-', 'x', MAX_INTERFACE_NAME), /no room/);
});

test('every interface name fits IFNAMSIZ and every socket fits sun_path, up to 253-character node names', () => {
  assert.equal(LONGEST.length, 253);
  for (const node of NODES) {
    for (const ifname of [wireguardInterface(node), fabricPort(node)]) {
      assert.ok(Buffer.byteLength(ifname) <= MAX_INTERFACE_NAME, `${ifname} (${node})`);
      assert.match(ifname, /^[a-z0-9-]+$/);
    }
    assert.ok(Buffer.byteLength(hubbleSocket(node)) <= MAX_SOCKET_PATH, hubbleSocket(node));
    assert.ok(nodeNamespace(node).length <= 67, nodeNamespace(node));
  }
  const pod = { node: LONGEST, namespace: 'n'.repeat(32), name: 'p'.repeat(32) };
  assert.ok(podNamespace(pod).length < 255, 'a netns name is a file name');
  assert.ok(lxcInterface(pod).length <= MAX_INTERFACE_NAME);
  const socket = socketIn(`forward-${podNamespace(pod)}-8080-4194304`);
  assert.ok(Buffer.byteLength(socket) <= MAX_SOCKET_PATH, socket);
  assert.equal(
    socketIn('forward-wsl-node3-53-12'),
    '/run/wirescope-lab/sockets/forward-wsl-node3-53-12.sock',
  );
});

test('derived names are unique within a lab of real node names', () => {
  const pods = NODES.map((node, i) => ({ node, namespace: 'shop', name: `api-${i}` }));
  assert.deepEqual(derivedNameClashes(NODES, pods), []);
  for (const derive of [wireguardInterface, fabricPort, nodeNamespace, agentDir]) {
    assert.equal(new Set(NODES.map(derive)).size, NODES.length, derive.name);
  }
});

test('a node or pod whose derived name someone else has is named, the later one blamed', () => {
  assert.deepEqual(derivedNameClashes(['cp'], []), [
    {
      list: 'nodes',
      index: 0,
      message: "its network namespace wsl-cp is already the control plane's; rename it",
    },
    { list: 'nodes', index: 0, message: "its fabric port fab-cp is already the control plane's; rename it" },
  ]);
  assert.match(
    derivedNameClashes(['logs'], [])[0]?.message ?? '',
    /path \/run\/wirescope-lab\/logs is already the lab itself's/,
  );
  // node "a-b" and pod b/... of node "a" would share a namespace name
  assert.deepEqual(derivedNameClashes(['a', 'a-b-c-d'], [{ node: 'a', namespace: 'b', name: 'c-d' }]), [
    {
      list: 'pods',
      index: 0,
      message: "its network namespace wsl-a-b-c-d is already node a-b-c-d's; rename it",
    },
  ]);
  // Two different names whose shortened forms meet (forced here through a hash-free prefix):
  // the derivation is deterministic, so such a clash is found before anything is created.
  const twins = ['wor-bf95', 'worker-10'];
  assert.equal(wireguardInterface(twins[1] as string), 'wsl-wg-wor-bf95');
  assert.match(
    derivedNameClashes(twins, [])[0]?.message ?? '',
    /WireGuard interface wsl-wg-wor-bf95 is already node wor-bf95's/,
  );
});
