// Synthetic flows and node state for unit tests (named as such: never a live source).
import { create } from '@bufbuild/protobuf';
import { DropReason, FlowSchema, IPVersion, TrafficDirection, Verdict, type Flow } from '@wirescope/flow';
import type { NodeMetricsSource, WireguardSnapshot, DatapathSnapshot, RingSnapshot } from '../source.js';

export interface SyntheticFlowOptions {
  verdict?: Verdict;
  trace?: number;
  drop?: DropReason;
  tcp?: {
    sport?: number;
    dport: number;
    flags?: { SYN?: boolean; ACK?: boolean; FIN?: boolean; RST?: boolean };
  };
  udp?: { dport: number };
  icmp?: { type: number; code: number; v6?: boolean };
  isReply?: boolean | undefined;
  direction?: TrafficDirection;
  src?: { ns: string; pod: string; ip: string; labels?: string[]; workload?: [string, string] };
  dst?: { ns: string; pod: string; ip: string; labels?: string[]; workload?: [string, string] };
}

export function syntheticFlow(o: SyntheticFlowOptions): Flow {
  const src = o.src ?? { ns: 'default', pod: 'client-1', ip: '10.244.1.10', labels: ['k8s:app=client'] };
  const dst = o.dst ?? { ns: 'default', pod: 'server-1', ip: '10.244.2.10', labels: ['k8s:app=server'] };
  const l4 = o.tcp
    ? {
        protocol: {
          case: 'TCP' as const,
          value: { sourcePort: o.tcp.sport ?? 40000, destinationPort: o.tcp.dport, flags: o.tcp.flags ?? {} },
        },
      }
    : o.udp
      ? { protocol: { case: 'UDP' as const, value: { sourcePort: 40000, destinationPort: o.udp.dport } } }
      : o.icmp
        ? {
            protocol: o.icmp.v6
              ? { case: 'ICMPv6' as const, value: { type: o.icmp.type, code: o.icmp.code } }
              : { case: 'ICMPv4' as const, value: { type: o.icmp.type, code: o.icmp.code } },
          }
        : undefined;
  const endpoint = (e: typeof src) => ({
    namespace: e.ns,
    podName: e.pod,
    labels: e.labels ?? [],
    workloads: e.workload ? [{ name: e.workload[0], kind: e.workload[1] }] : [],
  });
  const dropped = o.drop !== undefined;
  return create(FlowSchema, {
    verdict: o.verdict ?? (dropped ? Verdict.DROPPED : Verdict.FORWARDED),
    dropReasonDesc: o.drop ?? DropReason.DROP_REASON_UNKNOWN,
    eventType: dropped ? { type: 1, subType: o.drop } : { type: 4, subType: o.trace ?? 5 },
    IP: { source: src.ip, destination: dst.ip, ipVersion: o.icmp?.v6 ? IPVersion.IPv6 : IPVersion.IPv4 },
    ...(l4 ? { l4 } : {}),
    source: endpoint(src),
    destination: endpoint(dst),
    trafficDirection: o.direction ?? TrafficDirection.EGRESS,
    ...(o.isReply === undefined ? {} : { isReply: o.isReply }),
  });
}

export class SyntheticNodeState implements NodeMetricsSource {
  nodeName = 'node-a';
  wg: WireguardSnapshot | undefined = {
    interface: 'ws-a-wg0',
    publicKey: 'DEVKEY=',
    listenPort: 51871,
    peers: [
      {
        node: 'node-b',
        publicKey: 'PEERB=',
        endpoint: '10.77.0.12:51871',
        allowedIPs: ['10.244.2.0/24'],
        latestHandshakeSeconds: 1_700_000_000,
        rxBytes: 1000,
        txBytes: 2000,
        stale: false,
      },
      {
        node: 'node-c',
        publicKey: 'PEERC=',
        endpoint: undefined,
        allowedIPs: ['10.244.3.0/24', 'fd00:3::/64'],
        latestHandshakeSeconds: 0,
        rxBytes: 0,
        txBytes: 0,
        stale: true,
      },
    ],
  };
  dp: DatapathSnapshot | undefined = {
    attachments: [
      { program: 'from_endpoint', interface: 'lxc1', direction: 'ingress', attached: true, repairs: 2 },
      { program: 'to_network', interface: 'eth0', direction: 'egress', attached: false, repairs: 0 },
    ],
    leakPackets: 3,
    coverage: [
      { destinationNode: 'node-b', state: 'encrypted', packets: 990, bytes: 99000 },
      { destinationNode: 'node-b', state: 'plaintext', packets: 10, bytes: 1000 },
      { destinationNode: 'node-c', state: 'dropped', packets: 4, bytes: 240 },
    ],
  };
  ringState: RingSnapshot = {
    flows: 100,
    capacity: 4095,
    lost: { kernelRing: 2, decode: 1, observerQueue: 5 },
  };
  strict = false;
  nodes = 3;

  wireguard() {
    return this.wg;
  }
  clusterNodes() {
    return this.nodes;
  }
  datapath() {
    return this.dp;
  }
  ring() {
    return this.ringState;
  }
  strictMode() {
    return this.strict;
  }
}

/** Parses a text exposition into samples: name, labels, value. */
export function parseExposition(
  text: string,
): { name: string; labels: Record<string, string>; value: number }[] {
  const out = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const lm of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[lm[1]!] = lm[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}
