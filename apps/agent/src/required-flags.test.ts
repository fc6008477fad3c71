// Test fixture (no tests of its own): the flags every agent start needs, as the lab passes them.
export const requiredAgentFlags = [
  '--node-name',
  'node1',
  '--underlay-ip',
  '10.77.0.11',
  '--pod-cidr',
  '10.244.1.0/24',
  '--etcd-endpoints',
  'http://10.77.0.254:2379',
];
