// How `encrypt status` and `lab status` print a node's WireGuard state, `wg show`-like.
import type { EncryptStatusResponse } from '@wirescope/agent/client';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatAge(seconds: number | undefined): string {
  if (seconds === undefined) return 'never';
  if (seconds < 120) return `${seconds}s ago`;
  return `${Math.round(seconds / 60)}m ago`;
}

/**
 * What `encrypt status` prints: an agent's /v1/encrypt, or the relay's view (no MTU, no keepalive,
 * no underlay address or pod CIDR).
 */
export type NodeEncryptView = Omit<
  EncryptStatusResponse,
  'mtu' | 'peers' | 'observedAt' | 'underlayIP' | 'podCIDR'
> & {
  underlayIP?: string;
  podCIDR?: string;
  mtu?: number;
  observedAt?: string | undefined;
  /** What is wrong with the node's encryption (its device is down), as its agent reports it. */
  degraded?: string | undefined;
  peers: (Omit<EncryptStatusResponse['peers'][number], 'persistentKeepalive'> & {
    persistentKeepalive?: number;
  })[];
};

export function interfaceLine(status: NodeEncryptView): string {
  return `${status.node}: ${status.mechanism} interface ${status.interface} port ${status.listenPort}${status.mtu === undefined ? '' : ` mtu ${status.mtu}`}`;
}

export function peerLine(p: NodeEncryptView['peers'][number]): string {
  return (
    `${(p.node ?? '(unknown node)').padEnd(8)} endpoint ${p.endpoint ?? '(none)'}  allowed-ips ${p.allowedIPs.join(',')}  ` +
    `handshake ${formatAge(p.handshakeAgeSeconds)}  rx ${formatBytes(p.rxBytes)}  tx ${formatBytes(p.txBytes)}` +
    (p.staleSince ? `  STALE (its agent is gone since ${p.staleSince}; peer kept)` : '')
  );
}

/** The fwmark rule and table through which the eBPF datapath steers pod traffic into the device. */
export function steeringLine(
  steering: NonNullable<EncryptStatusResponse['steering']>,
  device: string,
): string {
  const missing = [
    ...(steering.rule ? [] : ['rule']),
    ...(steering.route ? [] : [`route to ${device}`]),
    ...(steering.unreachable ? [] : ['unreachable default']),
  ];
  return (
    `  steering: fwmark ${steering.mark} -> table ${steering.table} -> ${device}` +
    (missing.length ? `  MISSING: ${missing.join(', ')}` : '') +
    (steering.repairs ? `  (put back ${steering.repairs} time${steering.repairs === 1 ? '' : 's'})` : '')
  );
}

/** `wg show`-like lines for one node's encryption status. */
export function formatEncryptStatus(status: NodeEncryptView): string[] {
  const lines = [
    interfaceLine(status),
    ...(status.degraded ? [`  DEGRADED: ${status.degraded}`] : []),
    `  public key: ${status.publicKey}`,
    ...(status.steering ? [steeringLine(status.steering, status.interface)] : []),
    `  peers: ${status.peers.length}`,
  ];
  for (const p of status.peers) lines.push(`    ${peerLine(p)}`, `             key ${p.publicKey}`);
  if (status.observedAt) lines.push(`  observed at ${status.observedAt}`);
  return lines;
}
