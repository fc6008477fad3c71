/**
 * Per-peer WireGuard metrics under the names existing exporters use, so their dashboards and
 * alerts work unchanged: mdlayher/wireguard_exporter (wireguard_peer_*, wireguard_*_info) and
 * MindFlavor/prometheus_wireguard_exporter (wireguard_sent/received_bytes_total,
 * wireguard_latest_handshake_seconds). Calico's wireguard_latest_handshake_seconds has the same
 * name as MindFlavor's with other labels, and its byte counters lack `_total`: not exported.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { NodeMetricsSource } from './source.js';

function familyOf(cidr: string): string {
  return cidr.includes(':') ? 'IPv6' : 'IPv4';
}

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
  new Gauge({
    name: 'wireguard_peer_info',
    help: "Metadata about a peer. The public_key label on peer metrics refers to the peer's public key; not the device's public key.",
    labelNames: ['device', 'public_key', 'endpoint', 'name'],
    registers,
    collect() {
      this.reset();
      const wg = source.wireguard();
      for (const p of wg?.peers ?? []) {
        this.set(
          { device: wg!.interface, public_key: p.publicKey, endpoint: p.endpoint ?? '', name: p.node ?? '' },
          1,
        );
      }
    },
  });
  new Gauge({
    name: 'wireguard_peer_allowed_ips_info',
    help: "Metadata about each of a peer's allowed IP subnets for a given device.",
    labelNames: ['device', 'public_key', 'allowed_ips', 'family'],
    registers,
    collect() {
      this.reset();
      const wg = source.wireguard();
      for (const p of wg?.peers ?? []) {
        for (const cidr of p.allowedIPs) {
          this.set(
            { device: wg!.interface, public_key: p.publicKey, allowed_ips: cidr, family: familyOf(cidr) },
            1,
          );
        }
      }
    },
  });
  const perPeerCounter = (name: string, help: string, pick: 'rxBytes' | 'txBytes') =>
    new Counter({
      name,
      help,
      labelNames: ['device', 'public_key'],
      registers,
      collect() {
        this.reset();
        const wg = source.wireguard();
        for (const p of wg?.peers ?? [])
          this.inc({ device: wg!.interface, public_key: p.publicKey }, p[pick]);
      },
    });
  perPeerCounter(
    'wireguard_peer_receive_bytes_total',
    'Number of bytes received from a given peer.',
    'rxBytes',
  );
  perPeerCounter(
    'wireguard_peer_transmit_bytes_total',
    'Number of bytes transmitted to a given peer.',
    'txBytes',
  );
  new Gauge({
    name: 'wireguard_peer_last_handshake_seconds',
    help: 'UNIX timestamp for the last handshake with a given peer.',
    labelNames: ['device', 'public_key'],
    registers,
    collect() {
      this.reset();
      const wg = source.wireguard();
      for (const p of wg?.peers ?? []) {
        this.set({ device: wg!.interface, public_key: p.publicKey }, p.latestHandshakeSeconds);
      }
    },
  });

  const mindflavorCounter = (name: string, help: string, pick: 'rxBytes' | 'txBytes') =>
    new Counter({
      name,
      help,
      labelNames: ['interface', 'public_key', 'allowed_ips'],
      registers,
      collect() {
        this.reset();
        const wg = source.wireguard();
        for (const p of wg?.peers ?? []) {
          this.inc(
            { interface: wg!.interface, public_key: p.publicKey, allowed_ips: p.allowedIPs.join(',') },
            p[pick],
          );
        }
      },
    });
  mindflavorCounter('wireguard_sent_bytes_total', 'Bytes sent to the peer', 'txBytes');
  mindflavorCounter('wireguard_received_bytes_total', 'Bytes received from the peer', 'rxBytes');
  new Gauge({
    name: 'wireguard_latest_handshake_seconds',
    help: 'UNIX timestamp seconds of the last handshake',
    labelNames: ['interface', 'public_key', 'allowed_ips'],
    registers,
    collect() {
      this.reset();
      const wg = source.wireguard();
      for (const p of wg?.peers ?? []) {
        this.set(
          { interface: wg!.interface, public_key: p.publicKey, allowed_ips: p.allowedIPs.join(',') },
          p.latestHandshakeSeconds,
        );
      }
    },
  });
}
