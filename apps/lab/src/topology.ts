import type { LabSpec } from './spec.js';
import { CONTROL_PLANE_ADDRESS, UNDERLAY_CIDR } from './spec.js';
import {
  CONTROL_PLANE_NS,
  CONTROL_PLANE_PORT,
  FABRIC_BRIDGE,
  FABRIC_NS,
  fabricPort,
  lxcInterface,
  nodeNamespace,
  podNamespace,
} from './names.js';
import { inNamespace, ipBatch, run } from './shell.js';

const prefixLength = UNDERLAY_CIDR.split('/')[1];

/** Every namespace the spec needs, fabric and control plane first. */
export function namespacesOf(spec: LabSpec): string[] {
  return [
    FABRIC_NS,
    CONTROL_PLANE_NS,
    ...spec.nodes.map((n) => nodeNamespace(n.name)),
    ...spec.pods.map(podNamespace),
  ];
}

/**
 * Builds the network: a bridge in the fabric namespace, one veth leg per node and for the control
 * plane; per pod a namespace joined to its node by a veth whose host side is lxc…. Nothing is
 * created in the root namespace (every `ip` command names its target namespace).
 */
export async function createTopology(spec: LabSpec, progress: (message: string) => void): Promise<void> {
  for (const ns of namespacesOf(spec)) await run('ip', ['netns', 'add', ns]);
  // No IPv6 on the fabric: its link-local chatter would be noise in "only WireGuard on the wire".
  for (const ns of [FABRIC_NS, CONTROL_PLANE_NS, ...spec.nodes.map((n) => nodeNamespace(n.name))]) {
    await inNamespace(ns, 'sysctl', [
      '-qw',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    ]);
  }
  progress(`created ${namespacesOf(spec).length} network namespaces`);

  const fabric = [`link set lo up`, `link add ${FABRIC_BRIDGE} type bridge`, `link set ${FABRIC_BRIDGE} up`];
  const legs: [string, string, string][] = [
    [CONTROL_PLANE_NS, CONTROL_PLANE_PORT, CONTROL_PLANE_ADDRESS],
    ...spec.nodes.map((n): [string, string, string] => [
      nodeNamespace(n.name),
      fabricPort(n.name),
      n.address,
    ]),
  ];
  for (const [ns, port] of legs) {
    fabric.push(
      `link add ${port} type veth peer name eth0 netns ${ns}`,
      `link set ${port} master ${FABRIC_BRIDGE} up`,
    );
  }
  await ipBatch(FABRIC_NS, fabric);
  for (const [ns, , address] of legs) {
    await ipBatch(ns, ['link set lo up', `addr add ${address}/${prefixLength} dev eth0`, 'link set eth0 up']);
  }
  progress(
    `fabric bridge up: control plane ${CONTROL_PLANE_ADDRESS}, nodes ${spec.nodes.map((n) => n.address).join(', ')}`,
  );

  for (const node of spec.nodes) {
    const ns = nodeNamespace(node.name);
    // Set before the pod links exist so that they inherit "default" (rp_filter off for proxy ARP).
    await inNamespace(ns, 'sysctl', [
      '-qw',
      'net.ipv4.ip_forward=1',
      'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.default.rp_filter=0',
    ]);
    const pods = spec.pods.filter((p) => p.node === node.name);
    const nodeCommands: string[] = [];
    for (const pod of pods) {
      const lxc = lxcInterface(pod);
      nodeCommands.push(
        `link add ${lxc} type veth peer name eth0 netns ${podNamespace(pod)}`,
        `link set ${lxc} up`,
        `route add ${pod.ip}/32 dev ${lxc} scope link`,
      );
    }
    await ipBatch(ns, nodeCommands);
    if (pods.length > 0) {
      // Proxy ARP on the lxc side answers for every destination, so a pod needs no gateway address.
      await inNamespace(ns, 'sysctl', [
        '-qw',
        ...pods.map((p) => `net.ipv4.conf.${lxcInterface(p)}.proxy_arp=1`),
      ]);
    }
    for (const pod of pods) {
      await ipBatch(podNamespace(pod), [
        'link set lo up',
        `addr add ${pod.ip}/32 dev eth0`,
        'link set eth0 up',
        'route add default dev eth0 scope link',
      ]);
    }
  }
  progress(`${spec.pods.length} pods wired to their nodes (lxc veths, /32 routes)`);
}
