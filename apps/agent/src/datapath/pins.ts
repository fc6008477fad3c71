// Where the datapath's TCX links are pinned: one directory per network namespace (interface names
// are unique there) under the agent's bpffs. A pin keeps a killed agent's link running, its
// policy enforced and its pods observed, until the next agent takes it over; what nobody took
// over after the first sync belongs to pods that went while no agent ran, and is removed.
import { mkdirSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BPF_FS, detachPinnedTcx, isMounted, type TcLink } from '@wirescope/libbpf';

/** The pin directory of the namespace the datapath manages, or undefined without bpffs at bpfRoot. */
export function defaultPinDir(netns: string | undefined, bpfRoot = BPF_FS): string | undefined {
  if (!isMounted(bpfRoot, 'bpf')) return undefined;
  const inode = statSync(netns ? `/run/netns/${netns}` : '/proc/self/ns/net').ino;
  return join(bpfRoot, 'wirescope', `netns-${inode}`);
}

export class TcxPins {
  /** Found at start and not yet reused: links a killed agent left. */
  private left = new Set<string>();
  private takenOver: string[] = [];

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(dir)) this.left.add(join(dir, name));
  }

  /** bpffs refuses dots in names (reserved), and ':' is the one character no interface name has. */
  path(ifname: string, direction: string): string {
    return join(this.dir, `${ifname.replaceAll('.', ':')}_${direction}`);
  }

  /** An attach used `pin`: a link found there now runs our program. */
  used(pin: string, tc: TcLink): void {
    if (this.left.delete(pin) && tc.takenOver) this.takenOver.push(basename(pin));
  }

  /**
   * After the first sync: what was taken over, and the links left for interfaces that are no
   * longer this node's, detached. One log line each.
   */
  settle(): string[] {
    const lines: string[] = [];
    if (this.takenOver.length > 0)
      lines.push(
        `took over ${this.takenOver.length} TCX links a previous agent left pinned (no gap): ${this.takenOver.join(', ')}`,
      );
    const removed: string[] = [];
    for (const pin of this.left) {
      try {
        detachPinnedTcx(pin);
      } catch {
        rmSync(pin, { force: true }); // not a TCX link: not ours to keep
      }
      removed.push(basename(pin));
    }
    if (removed.length > 0)
      lines.push(
        `removed ${removed.length} TCX links a previous agent left on interfaces no longer local: ${removed.join(', ')}`,
      );
    this.left.clear();
    this.takenOver = [];
    return lines;
  }

  /** After every link was detached (and so unpinned): the directory goes if it is empty. */
  close(): void {
    try {
      rmdirSync(this.dir);
    } catch {
      // links left pinned on purpose, or already gone
    }
  }
}
