/**
 * Per-peer WireGuard metrics under the names existing exporters use, so their dashboards and
 * alerts work unchanged: mdlayher/wireguard_exporter (wireguard_peer_*, wireguard_*_info) and
 * MindFlavor/prometheus_wireguard_exporter (wireguard_sent/received_bytes_total,
 * wireguard_latest_handshake_seconds). Calico's wireguard_latest_handshake_seconds has the same
 * name as MindFlavor's with other labels, and its byte counters lack `_total`: not exported.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { NodeMetricsSource, WireguardPeerSnapshot } from './source.js';

type Labels = Record<string, string>;

/** One exporter metric: its series for one peer of the device (or for the device itself). */
interface PeerFamily {
  name: string;
  help: string;
  kind: 'gauge' | 'counter';
  labelNames: string[];
  series: (device: string, peer: WireguardPeerSnapshot) => [Labels, number][];
}

const familyOf = (cidr: string): string => (cidr.includes(':') ? 'IPv6' : 'IPv4');
/** mdlayher's peer labels */
const mdl = (device: string, p: WireguardPeerSnapshot): Labels => ({ device, public_key: p.publicKey });
/** MindFlavor's peer labels */
const mf = (device: string, p: WireguardPeerSnapshot): Labels => ({
  interface: device,
  public_key: p.publicKey,
  allowed_ips: p.allowedIPs.join(','),
});

const PEER_FAMILIES: PeerFamily[] = [
  {
    name: 'wireguard_peer_info',
    help: "Metadata about a peer. The public_key label on peer metrics refers to the peer's public key; not the device's public key.",
    kind: 'gauge',
    labelNames: ['device', 'public_key', 'endpoint', 'name'],
    series: (d, p) => [[{ ...mdl(d, p), endpoint: p.endpoint ?? '', name: p.node ?? '' }, 1]],
  },
  {
    name: 'wireguard_peer_allowed_ips_info',
    help: "Metadata about each of a peer's allowed IP subnets for a given device.",
    kind: 'gauge',
    labelNames: ['device', 'public_key', 'allowed_ips', 'family'],
    series: (d, p) =>
      p.allowedIPs.map((cidr) => [{ ...mdl(d, p), allowed_ips: cidr, family: familyOf(cidr) }, 1]),
  },
  {
    name: 'wireguard_peer_receive_bytes_total',
    help: 'Number of bytes received from a given peer.',
    kind: 'counter',
    labelNames: ['device', 'public_key'],
    series: (d, p) => [[mdl(d, p), p.rxBytes]],
  },
  {
    name: 'wireguard_peer_transmit_bytes_total',
    help: 'Number of bytes transmitted to a given peer.',
    kind: 'counter',
    labelNames: ['device', 'public_key'],
    series: (d, p) => [[mdl(d, p), p.txBytes]],
  },
  {
    name: 'wireguard_peer_last_handshake_seconds',
    help: 'UNIX timestamp for the last handshake with a given peer.',
    kind: 'gauge',
    labelNames: ['device', 'public_key'],
    series: (d, p) => [[mdl(d, p), p.latestHandshakeSeconds]],
  },
  {
    name: 'wireguard_sent_bytes_total',
    help: 'Bytes sent to the peer',
    kind: 'counter',
    labelNames: ['interface', 'public_key', 'allowed_ips'],
    series: (d, p) => [[mf(d, p), p.txBytes]],
  },
  {
    name: 'wireguard_received_bytes_total',
    help: 'Bytes received from the peer',
    kind: 'counter',
    labelNames: ['interface', 'public_key', 'allowed_ips'],
    series: (d, p) => [[mf(d, p), p.rxBytes]],
  },
  {
    name: 'wireguard_latest_handshake_seconds',
    help: 'UNIX timestamp seconds of the last handshake',
    kind: 'gauge',
    labelNames: ['interface', 'public_key', 'allowed_ips'],
    series: (d, p) => [[mf(d, p), p.latestHandshakeSeconds]],
  },
];

export function registerWireguardMetrics(registry: Registry, source: NodeMetricsSource): void {
  const registers = [registry];
  new Gauge({
    name: 'wireguard_device_info',
    help: 'Metadata about a device.',
    labelNames: ['device', 'public_key'],
    registers,
    collect() {
      this.reset();
      const wg = source.wireguard();
      if (wg) this.set({ device: wg.interface, public_key: wg.publicKey }, 1);
    },
  });
  for (const family of PEER_FAMILIES) {
    // the device's totals are read at scrape time: each scrape states them afresh
    const fill = (write: (labels: Labels, value: number) => void) => {
      const wg = source.wireguard();
      for (const peer of wg?.peers ?? [])
        for (const [labels, value] of family.series(wg!.interface, peer)) write(labels, value);
    };
    const options = { name: family.name, help: family.help, labelNames: family.labelNames, registers };
    if (family.kind === 'gauge')
      new Gauge({
        ...options,
        collect() {
          this.reset();
          fill((labels, value) => this.set(labels, value));
        },
      });
    else
      new Counter({
        ...options,
        collect() {
          this.reset();
          fill((labels, value) => this.inc(labels, value));
        },
      });
  }
}
