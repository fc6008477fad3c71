import { readFileSync, readdirSync } from 'node:fs';
import { run } from '../exec.js';

export interface LinkInfo {
  ifindex: number;
  ifname: string;
  address?: string;
}

/** Interface names of the caller's network namespace (/proc/net/dev is per namespace). */
function procNetDevNames(): Set<string> | undefined {
  try {
    const lines = readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2);
    return new Set(lines.map((l) => l.slice(0, l.indexOf(':')).trim()).filter((n) => n !== ''));
  } catch {
    return undefined;
  }
}

/**
 * The links of the caller's namespace from sysfs, when sysfs shows that namespace: /sys/class/net
 * belongs to the namespace sysfs was mounted in (`ip netns exec` mounts a fresh one), so it is
 * used only when its names are exactly /proc/net/dev's. Undefined otherwise.
 */
export function sysfsLinks(): LinkInfo[] | undefined {
  const names = procNetDevNames();
  if (!names) return undefined;
  try {
    const entries = readdirSync('/sys/class/net');
    if (entries.length !== names.size || !entries.every((n) => names.has(n))) return undefined;
    return entries.map((ifname) => {
      const dir = `/sys/class/net/${ifname}`;
      const address = readFileSync(`${dir}/address`, 'utf8').trim();
      return {
        ifname,
        ifindex: Number(readFileSync(`${dir}/ifindex`, 'utf8')),
        ...(address ? { address } : {}),
      };
    });
  } catch {
    return undefined; // a link went away while it was read: ask ip
  }
}

/**
 * Every link of `netns` (default: the caller's namespace). The caller's own are read from sysfs
 * when it shows them (see sysfsLinks): the agent lists links at every resync, and an `ip`
 * process per listing was a good part of an idle agent's CPU.
 */
export async function listLinks(netns?: string): Promise<LinkInfo[]> {
  if (!netns) {
    const fast = sysfsLinks();
    if (fast) return fast;
  }
  const { stdout } = await run('ip', netns ? ['-n', netns, '-j', 'link', 'show'] : ['-j', 'link', 'show']);
  return (JSON.parse(stdout || '[]') as LinkInfo[]).map((l) => ({
    ifindex: l.ifindex,
    ifname: l.ifname,
    ...(l.address ? { address: l.address } : {}),
  }));
}
