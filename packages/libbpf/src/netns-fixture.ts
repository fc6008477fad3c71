// Test fixture: two network namespaces joined by a veth pair, with IPv4 and IPv6 addresses.
// Used by this package's tests only (not exported). Names carry the caller's prefix.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';

export interface VethLabOptions {
  /** Prefix of every namespace and link created (and removed), e.g. 'wst1-'. */
  prefix: string;
  /** Distinguishes concurrent labs of one prefix; keep it short (interface names ≤ 15). */
  tag: string;
  /** Third octet of 10.250.X.0/24 and group of fd00:250:X::/64. */
  subnet: number;
}

export class VethLab {
  readonly nsA: string;
  readonly nsB: string;
  readonly ifA: string;
  readonly ifB: string;
  readonly ipA: string;
  readonly ipB: string;
  readonly ip6A: string;
  readonly ip6B: string;
  ifindexA = 0;
  readonly #children = new Set<ChildProcess>();

  constructor(options: VethLabOptions) {
    const { prefix, tag, subnet } = options;
    this.nsA = `${prefix}${tag}-a`;
    this.nsB = `${prefix}${tag}-b`;
    this.ifA = `${prefix}${tag}a`;
    this.ifB = `${prefix}${tag}b`;
    if (this.ifA.length > 15) throw new Error(`interface name ${this.ifA} longer than 15 characters`);
    this.ipA = `10.250.${subnet}.1`;
    this.ipB = `10.250.${subnet}.2`;
    this.ip6A = `fd00:250:${subnet}::1`;
    this.ip6B = `fd00:250:${subnet}::2`;
  }

  up(): this {
    this.down(); // leftovers of a crashed run
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    ip('netns', 'add', this.nsA);
    ip('netns', 'add', this.nsB);
    ip(
      'link',
      'add',
      this.ifA,
      'netns',
      this.nsA,
      'type',
      'veth',
      'peer',
      'name',
      this.ifB,
      'netns',
      this.nsB,
    );
    for (const [ns, dev, v4, v6] of [
      [this.nsA, this.ifA, this.ipA, this.ip6A],
      [this.nsB, this.ifB, this.ipB, this.ip6B],
    ] as const) {
      ip('-n', ns, 'addr', 'add', `${v4}/24`, 'dev', dev);
      ip('-n', ns, 'addr', 'add', `${v6}/64`, 'dev', dev, 'nodad');
      ip('-n', ns, 'link', 'set', dev, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    const links = JSON.parse(
      execFileSync('ip', ['-n', this.nsA, '-j', 'link', 'show', this.ifA], { encoding: 'utf8' }),
    ) as {
      ifindex: number;
    }[];
    this.ifindexA = links[0]?.ifindex ?? 0;
    return this;
  }

  /** Runs a command in a namespace and waits; throws with its stderr when it fails. */
  run(ns: string, command: string, args: string[], timeoutMs = 10_000): string {
    const res = spawnSync('ip', ['netns', 'exec', ns, command, ...args], {
      encoding: 'utf8',
      timeout: timeoutMs,
    });
    if (res.status !== 0)
      throw new Error(`${command} ${args.join(' ')} in ${ns} failed: ${res.stderr || res.error?.message}`);
    return res.stdout;
  }

  /** Runs a node snippet in a namespace and waits for it. */
  node(ns: string, source: string): string {
    return this.run(ns, process.execPath, ['--input-type=module', '-e', source]);
  }

  /** Starts a long-running node snippet in a namespace; resolves once it prints "ready". */
  async background(ns: string, source: string): Promise<ChildProcess> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', source], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.#children.add(child);
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`background process exited early (${code})`)));
      child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
    });
    return child;
  }

  tcFilters(ns: string, dev: string): string {
    return ['ingress', 'egress']
      .map((dir) => execFileSync('tc', ['-n', ns, 'filter', 'show', 'dev', dev, dir], { encoding: 'utf8' }))
      .join('');
  }

  down(): void {
    for (const child of this.#children) if (child.exitCode === null && child.pid) child.kill();
    this.#children.clear();
    for (const ns of [this.nsA, this.nsB]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); // deleting a namespace removes its veth end
  }
}

/** Ends the test process with one clear line when not root. */
export function exitUnlessRoot(): void {
  if (process.getuid?.() !== 0) {
    console.error('libbpf tests: must run as root (BPF, tc and network namespaces need it): sudo npm test');
    process.exit(1);
  }
}

/** Resolves when check() returns true, polling every 20 ms; rejects after timeoutMs. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
