// What attaching a program makes: tc programs (a cls_bpf filter or a TCX link) and tracing links,
// and the tc attach options, checked once here for both kinds.
import { invalidArg } from './errors.js';
import { native, type NativeLinkHandle, type NativeTcLinkHandle, type TcFilterState } from './native.js';
import { checkInt, checkName, describe } from './validate.js';

export type TcDirection = 'ingress' | 'egress';

/**
 * How a tc program is attached: `filter` is a cls_bpf filter under a clsact qdisc (any kernel);
 * `tcx` a TCX link (Linux 6.6+), which the kernel runs without the qdisc's classifier layers.
 */
export type TcAttachKind = 'filter' | 'tcx';

export interface TcAttachOptions {
  ifname?: string;
  ifindex?: number;
  direction: TcDirection;
  /** Default `filter`. */
  kind?: TcAttachKind;
  /** tc filter priority; 0 lets the kernel choose. For `tcx`: with handle, the filter to delete. */
  priority?: number;
  /** tc filter handle; 0 lets the kernel choose. For `tcx`: with priority, the filter to delete. */
  handle?: number;
  /** Network namespace: a name under /run/netns or an absolute path (e.g. /proc/<pid>/ns/net). */
  netns?: string;
  /**
   * Replace a filter already at this priority and handle (both required), e.g. one left by a
   * previous run that was killed; without it such a filter makes the attach fail with EEXIST.
   * `filter` only: for `tcx`, a priority and handle (both) name a cls_bpf filter that is deleted
   * once the link runs (an earlier attach of the same program as a filter), so the hook never
   * goes without it.
   */
  replace?: boolean;
  /**
   * `tcx` only: an absolute path in bpffs to pin the link at, so that it outlives the process
   * (a killed one). A link already pinned there on the same hook is updated to this program
   * (TcLink.takenOver) instead of a new one being added; anything else pinned there is removed.
   */
  pin?: string;
}

/** TcAttachOptions checked: what the native attach calls take. */
export interface TcAttachArgs {
  ifindex: number;
  ifname: string | undefined;
  ingress: boolean;
  kind: TcAttachKind;
  priority: number;
  handle: number;
  netnsPath: string | undefined;
  replace: boolean;
  pin: string | undefined;
}

export function tcAttachArgs(options: TcAttachOptions): TcAttachArgs {
  if (options === null || typeof options !== 'object') throw invalidArg('attachTc options must be an object');
  const { direction, priority = 0, handle = 0, replace = false, kind = 'filter', pin } = options;
  checkDirection(direction);
  if (kind !== 'filter' && kind !== 'tcx')
    throw invalidArg(`tc attach kind must be 'filter' or 'tcx', got ${describe(kind)}`);
  const where = interfaceArgs(options, 'attachTc');
  checkInt('priority', priority, 0, 0xffff);
  checkInt('handle', handle, 0, 0xffffffff);
  if (typeof replace !== 'boolean') throw invalidArg(`replace must be a boolean, got ${describe(replace)}`);
  if (replace && kind === 'tcx')
    throw invalidArg('replace is for filters (a TCX link is added next to others)');
  if (replace && (priority === 0 || handle === 0))
    throw invalidArg('replace needs an explicit priority and handle (the filter to replace)');
  if (pin !== undefined) {
    if (kind !== 'tcx') throw invalidArg('pin needs kind: tcx (a cls_bpf filter is not a link)');
    if (typeof pin !== 'string' || !pin.startsWith('/') || pin.includes('\0'))
      throw invalidArg(`pin must be an absolute path in bpffs, got ${describe(pin)}`);
  }
  return { ...where, ingress: direction === 'ingress', kind, priority, handle, replace, pin };
}

function checkDirection(direction: unknown): void {
  if (direction !== 'ingress' && direction !== 'egress')
    throw invalidArg(`tc direction must be 'ingress' or 'egress', got ${describe(direction)}`);
}

function interfaceArgs(
  options: { ifname?: string; ifindex?: number; netns?: string },
  caller: string,
): { ifindex: number; ifname: string | undefined; netnsPath: string | undefined } {
  const { ifname, ifindex, netns } = options;
  if ((ifname === undefined) === (ifindex === undefined))
    throw invalidArg(`${caller} needs exactly one of ifname or ifindex`);
  if (ifname !== undefined) checkName('ifname', ifname);
  if (ifindex !== undefined) checkInt('ifindex', ifindex, 1, 0x7fffffff);
  let netnsPath: string | undefined;
  if (netns !== undefined) {
    checkName('netns', netns);
    if (netns.startsWith('/')) netnsPath = netns;
    else if (/^[A-Za-z0-9_.-]+$/.test(netns)) netnsPath = `/run/netns/${netns}`;
    else
      throw invalidArg(`netns must be a name under /run/netns or an absolute path, got ${describe(netns)}`);
  }
  return { ifindex: ifindex ?? 0, ifname, netnsPath };
}

/**
 * The ids of the programs the kernel runs as TCX links on an interface's hook, in run order
 * (BPF_PROG_QUERY): what `tc filter show` cannot see. Throws EINVAL on a kernel without TCX.
 */
export function tcxPrograms(options: {
  ifname?: string;
  ifindex?: number;
  direction: TcDirection;
  netns?: string;
}): number[] {
  if (options === null || typeof options !== 'object')
    throw invalidArg('tcxPrograms options must be an object');
  checkDirection(options.direction);
  const { ifindex, ifname, netnsPath } = interfaceArgs(options, 'tcxPrograms');
  return native.tcxPrograms(ifindex, ifname, options.direction === 'ingress', netnsPath);
}

/**
 * Detaches and unpins the TCX link pinned at `path` (one a killed process left); false when
 * nothing is pinned there.
 */
export function detachPinnedTcx(path: string): boolean {
  if (typeof path !== 'string' || !path.startsWith('/'))
    throw invalidArg(`path must be an absolute path in bpffs, got ${describe(path)}`);
  return native.detachPinnedTcx(path);
}

export interface Detachable {
  readonly attached: boolean;
  detach(): void;
}

/** What both link kinds share: an idempotent detach() that tells the owning object once. */
abstract class NativeLink<Self extends Detachable> implements Detachable {
  #native: NativeLinkHandle;
  #attached = true;

  protected constructor(
    handle: NativeLinkHandle,
    private readonly onDetach?: (link: Self) => void,
  ) {
    this.#native = handle;
  }

  get attached(): boolean {
    return this.#attached;
  }

  /** Idempotent. A tc program whose interface is already gone counts as removed. */
  detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    try {
      this.#native.detach();
    } finally {
      this.onDetach?.(this as unknown as Self);
    }
  }
}

/**
 * A tc program added by attachTc: a cls_bpf filter (detach() removes exactly this filter, not the
 * clsact qdisc) or a TCX link (detach() takes it off the hook and removes its pin).
 */
export class TcLink extends NativeLink<TcLink> {
  readonly ifindex: number;
  readonly handle: number;
  readonly priority: number;
  readonly direction: TcDirection;
  readonly program: string;
  readonly kind: TcAttachKind;
  /** The kernel's id of a TCX link (`bpftool link show id …`); 0 for a filter. */
  readonly linkId: number;
  /** A TCX link that was already pinned and now runs this program instead of its old one. */
  readonly takenOver: boolean;
  /** The kernel's id of the program attached (`bpftool prog show id …`). */
  readonly programId: number;
  #tc: NativeTcLinkHandle;

  /** @internal */
  constructor(
    handle: NativeTcLinkHandle,
    program: string,
    direction: TcDirection,
    onDetach?: (link: TcLink) => void,
  ) {
    super(handle, onDetach);
    this.#tc = handle;
    const info = handle.info();
    this.ifindex = info.ifindex;
    this.handle = info.handle;
    this.priority = info.priority;
    this.direction = direction;
    this.program = program;
    this.kind = info.kind;
    this.linkId = info.linkId;
    this.takenOver = info.takenOver;
    this.programId = info.programId;
  }

  /**
   * What the kernel runs at this program's hook: `present` (ours), `missing` once something else
   * took it away (a filter: `tc filter del`, a flush, the clsact qdisc removed, another program at
   * its handle and priority; a link: `bpftool link detach`, another program put in it),
   * `no-interface` once the interface is gone, `detached` after detach(). `attached` only says
   * that detach() was not called.
   */
  state(): TcFilterState {
    if (!this.attached) return 'detached';
    return this.#tc.state();
  }
}

/** A bpf_link from bpf_program__attach (fentry, fexit, tp_btf, tracepoint, raw_tp...). */
export class TracingLink extends NativeLink<TracingLink> {
  readonly program: string;

  /** @internal */
  constructor(handle: NativeLinkHandle, program: string, onDetach?: (link: TracingLink) => void) {
    super(handle, onDetach);
    this.program = program;
  }
}
