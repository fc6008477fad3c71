/**
 * The network namespaces that are this node's: its own and those of its local pods. The
 * kfree_skb program reports a kernel drop only when the kernel dropped the packet in one of them
 * (bpf/lib/netns.h), which matters wherever several nodes share one kernel (the lab).
 *
 * A namespace is named by its inode number (ns.inum): what stat() of /proc/<pid>/ns/net, or of
 * an nsfs bind mount such as /run/netns/<name> (a CNI's CNI_NETNS), returns as st_ino.
 */
import { statSync } from 'node:fs';

/** What stat() says about a path; injectable for tests. */
export type StatFn = (path: string) => { ino: number; dev: number };

export const defaultStat: StatFn = (path) => {
  const s = statSync(path);
  return { ino: s.ino, dev: s.dev };
};

/** The node's own network namespace: a named one the agent manages, else the agent's own. */
export function nodeNetnsPath(netns: string | undefined): string {
  return netns ? `/run/netns/${netns}` : '/proc/self/ns/net';
}

export interface EndpointNetns {
  interface: string;
  /** The path the cluster store gave (EndpointRecord.netns), if any. */
  path?: string;
  inode?: number;
  error?: string;
}

export interface LocalNetns {
  /** The node namespace's inode; undefined when it could not be read (then drops are attributed by address). */
  node?: number;
  nodePath: string;
  nodeError?: string;
  endpoints: EndpointNetns[];
  /** Every inode that is this node's, deduplicated (pods may share one, e.g. host-network ones). */
  inodes: number[];
}

/**
 * Resolves the node's and each local endpoint's namespace inode. An endpoint without a path, or
 * whose path is not a namespace file (different device from the node's nsfs), is reported with
 * an error and left out: drops inside its namespace are then reported by no one, visibly.
 */
export function localNetns(
  nodePath: string,
  endpoints: { interface: string; netns?: string | undefined }[],
  stat: StatFn = defaultStat,
): LocalNetns {
  const out: LocalNetns = { nodePath, endpoints: [], inodes: [] };
  let nsfsDev: number | undefined;
  try {
    const s = stat(nodePath);
    out.node = s.ino;
    nsfsDev = s.dev;
  } catch (err) {
    out.nodeError = messageOf(err);
  }
  const inodes = new Set<number>(out.node !== undefined ? [out.node] : []);
  for (const ep of endpoints) {
    const entry: EndpointNetns = { interface: ep.interface };
    if (!ep.netns) {
      entry.error = 'no network namespace path in the endpoint record';
    } else {
      entry.path = ep.netns;
      try {
        const s = stat(ep.netns);
        if (nsfsDev !== undefined && s.dev !== nsfsDev)
          entry.error = `${ep.netns} is not a network namespace file`;
        else {
          entry.inode = s.ino;
          inodes.add(s.ino);
        }
      } catch (err) {
        entry.error = messageOf(err);
      }
    }
    out.endpoints.push(entry);
  }
  out.inodes = [...inodes];
  return out;
}

/** ws_local_netns content: u32 inode (host order) -> u8 1. */
export function localNetnsMap(inodes: number[]): Map<string, Buffer> {
  const one = Buffer.from([1]);
  return new Map(
    inodes
      .filter((i) => Number.isInteger(i) && i > 0 && i <= 0xffffffff)
      .map((i) => {
        const key = Buffer.alloc(4);
        key.writeUInt32LE(i);
        return [key.toString('hex'), one];
      }),
  );
}

/** Lines worth logging when the resolution changed (so a sync every few seconds does not repeat them). */
export function netnsProblems(state: LocalNetns): string[] {
  const out: string[] = [];
  if (state.nodeError)
    out.push(`node namespace ${state.nodePath}: ${state.nodeError}; kernel drops attributed by address only`);
  for (const e of state.endpoints)
    if (e.error) out.push(`${e.interface}: ${e.error}; kernel drops inside that pod are not reported`);
  return out;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
