/**
 * Membership follows the store, not the lease: a node whose agent stopped renewing its lease
 * (crashed, restarting, partitioned from etcd) keeps its WireGuard peer and datapath entries,
 * marked stale, until its record is deleted on purpose or the grace period runs out. The datapath
 * outlives the agent, so a dead agent is no reason to cut its node's pods off.
 */
import type { NodeRecord } from './types.js';

export interface StaleNode {
  name: string;
  /** Unix ms when this agent first saw the node's lease missing. */
  since: number;
}

export interface MembershipView {
  /** Nodes that keep their peer: agent alive, or stale within the grace period. */
  kept: NodeRecord[];
  stale: StaleNode[];
  /** Transitions since the previous update, for the log. */
  lapsed: string[];
  recovered: string[];
  expired: string[];
}

export class NodeMembership {
  private readonly staleSince = new Map<string, number>();
  private readonly expiredNodes = new Set<string>();

  constructor(
    private readonly selfName: string,
    private readonly graceMs: number,
  ) {}

  update(nodes: NodeRecord[], alive: ReadonlySet<string>, nowMs: number): MembershipView {
    const view: MembershipView = { kept: [], stale: [], lapsed: [], recovered: [], expired: [] };
    const present = new Set(nodes.map((n) => n.name));
    for (const name of [...this.staleSince.keys()]) {
      if (!present.has(name)) this.staleSince.delete(name); // deleted from the cluster on purpose
    }
    for (const name of [...this.expiredNodes]) if (!present.has(name)) this.expiredNodes.delete(name);
    for (const node of nodes) {
      if (node.name === this.selfName || alive.has(node.name)) {
        if (this.staleSince.delete(node.name) || this.expiredNodes.delete(node.name))
          view.recovered.push(node.name);
        view.kept.push(node);
        continue;
      }
      let since = this.staleSince.get(node.name);
      if (since === undefined && !this.expiredNodes.has(node.name)) {
        since = nowMs;
        this.staleSince.set(node.name, since);
        view.lapsed.push(node.name);
      }
      if (since !== undefined && nowMs - since >= this.graceMs) {
        this.staleSince.delete(node.name);
        this.expiredNodes.add(node.name);
        view.expired.push(node.name);
      }
      if (this.expiredNodes.has(node.name)) continue;
      view.kept.push(node);
      view.stale.push({ name: node.name, since: since ?? nowMs });
    }
    return view;
  }

  /** Unix ms since when the node's agent has been gone, undefined when it is alive (or expired). */
  staleSinceOf(name: string): number | undefined {
    return this.staleSince.get(name);
  }
}
