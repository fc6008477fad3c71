import { run } from '../exec.js';

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
    const existing = new Set(await this.current());
    const wanted = new Set(cidrs);
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
