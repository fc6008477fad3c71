/** IPv4 and CIDR helpers shared by config validation, the store and the datapath. */

export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export interface Cidr {
  network: number;
  prefixLength: number;
  text: string;
}

/** Parses "a.b.c.d/n"; rejects host bits set so that "10.244.1.5/24" is not silently widened. */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const address = parseIPv4(match[1] ?? '');
  const prefixLength = Number(match[2]);
  if (address === undefined || prefixLength > 32) return undefined;
  const size = 2 ** (32 - prefixLength);
  if (address % size !== 0) return undefined;
  return { network: address, prefixLength, text };
}

export function cidrSize(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefixLength);
}

export function cidrContains(cidr: Cidr, address: number): boolean {
  return address >= cidr.network && address < cidr.network + cidrSize(cidr);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b.network) || cidrContains(b, a.network);
}

/**
 * A DNS-1123 subdomain, what Kubernetes accepts as a node name: lower-case letters, digits, "-"
 * and ".", each dot-separated label starting and ending with a letter or digit, 253 at most.
 */
export function isDnsSubdomain(name: string): boolean {
  return (
    name.length <= 253 &&
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(name) &&
    name.split('.').every((label) => label.length <= 63)
  );
}
