// Filters of ours that something else took away (`tc filter del`, a flush of the qdisc, another
// program at our handle and priority) and the loader put back: which, how often, when.
import type { TcFilterState, TcLink } from '@wirescope/libbpf';

/** The key of a tc attachment in the loader's status: one filter per interface and direction. */
export function attachmentKey(ifname: string, direction: string): string {
  return `${ifname}/${direction}`;
}

/** The kernel's answer, or `present` when it cannot be asked (checked again next time). */
export function filterState(tc: TcLink): TcFilterState {
  try {
    return tc.state();
  } catch {
    return 'present';
  }
}

export class AttachmentRepairs {
  private byKey = new Map<string, { count: number; last: string }>();

  /** One filter found taken away (logged by the caller with the others of the same check). */
  note(ifname: string, tc: TcLink): string {
    const key = attachmentKey(ifname, tc.direction);
    const repair = this.byKey.get(key) ?? { count: 0, last: '' };
    repair.count += 1;
    repair.last = new Date().toISOString();
    this.byKey.set(key, repair);
    return `${tc.program} on ${ifname} ${tc.direction}`;
  }

  /** An attachment's status with its repairs, when it had any. */
  decorate<T extends object>(key: string, status: T): T & { repairs?: number; lastRepair?: string } {
    const repair = this.byKey.get(key);
    return repair ? { ...status, repairs: repair.count, lastRepair: repair.last } : status;
  }
}
