import { readFileSync } from 'node:fs';
import { run } from '../exec.js';

/**
 * The IPv4 routes through `device` in the main table of the caller's network namespace, as
 * "a.b.c.d/len", from /proc/net/route (per namespace, like every /proc/net file): reading a file
 * instead of running `ip route show` at every resync (a process per reading was a good part of
 * the idle agent's CPU). Undefined when the file cannot be read.
 */
export function procRoutesVia(device: string, table = readProcRoute()): string[] | undefined {
  if (table === undefined) return undefined;
  const out: string[] = [];
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[0] !== device) continue;
    const dst = Number.parseInt(f[1]!, 16);
    const mask = Number.parseInt(f[7]!, 16);
    if (!Number.isFinite(dst) || !Number.isFinite(mask)) return undefined;
    // the kernel prints the address's network-order bytes as a host-order (little-endian) word
    const ip = [dst & 255, (dst >>> 8) & 255, (dst >>> 16) & 255, dst >>> 24].join('.');
    let bits = 0;
    for (let m = mask >>> 0; m !== 0; m >>>= 1) bits += m & 1;
    out.push(`${ip}/${bits}`);
  }
  return out;
}

function readProcRoute(): string | undefined {
  try {
    return readFileSync('/proc/net/route', 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Route-based steering: remote pod CIDRs go through the WireGuard device, everything else (same-node
 * pods on their lxc veths) keeps its own routes. A later issue replaces this with eBPF (ipcache +
 * redirect on the pod veths) behind the same `sync` call.
 */
export class RouteSteering {
  constructor(private readonly deviceName: string) {}

  async current(): Promise<string[]> {
    const { stdout } = await run('ip', ['-j', 'route', 'show', 'dev', this.deviceName, 'proto', 'static']);
    const routes = JSON.parse(stdout || '[]') as { dst: string }[];
    return routes.map((r) => r.dst);
  }

  /** Makes the routes through the device exactly `cidrs`; returns what changed. */
  async sync(cidrs: string[]): Promise<{ added: string[]; removed: string[] }> {
    const wanted = new Set(cidrs);
    // the usual resync changes nothing: when the table already says exactly that, stop there
    const present = procRoutesVia(this.deviceName);
    if (present && present.length === wanted.size && present.every((r) => wanted.has(r)))
      return { added: [], removed: [] };
    const existing = new Set(await this.current());
    const added: string[] = [];
    const removed: string[] = [];
    for (const cidr of wanted) {
      if (existing.has(cidr)) continue;
      await run('ip', ['route', 'replace', cidr, 'dev', this.deviceName, 'proto', 'static']);
      added.push(cidr);
    }
    for (const cidr of existing) {
      if (wanted.has(cidr)) continue;
      await run('ip', ['route', 'del', cidr, 'dev', this.deviceName, 'proto', 'static']);
      removed.push(cidr);
    }
    return { added, removed };
  }
}
