// Every tc program of the datapath on its hook: the WireGuard device's and the underlay's (fixed
// for the agent's life) and each pod veth's (following the endpoints), attached as TCX links
// where the kernel has them and as cls_bpf filters elsewhere, put back when something else takes
// one away, and reported per hook.
import { execFileSync } from 'node:child_process';
import { BPF_FS, type BpfObject, type TcAttachKind, type TcDirection, type TcLink } from '@wirescope/libbpf';
import type { LinkInfo } from './links.js';
import { TcxPins, defaultPinDir } from './pins.js';
import { AttachmentRepairs, attachmentKey, filterState } from './repairs.js';

/** tc filter priority and handle of every Wirescope datapath filter: fixed, so a restart replaces them. */
const TC_PRIORITY = 1;
const TC_HANDLE = 0x5753;
/** from_endpoint and to_endpoint on every pod veth */
const LXC_PROGRAMS = [
  ['from_endpoint', 'ingress'],
  ['to_endpoint', 'egress'],
] as const;

export interface AttachmentStatus {
  interface: string;
  program: string;
  direction: TcDirection | 'tracing';
  attached: boolean;
  error?: string;
  /** tc programs: a TCX link or a cls_bpf filter. */
  kind?: TcAttachKind;
  /** A TCX link's id (`bpftool link show id …`). */
  linkId?: number;
  /** Times the agent found this filter taken away (deleted, replaced) and put it back. */
  repairs?: number;
  /** ISO time of the last of them. */
  lastRepair?: string;
}

export interface TcAttachmentOptions {
  /** Network namespace (name under /run/netns) the interfaces are in; default: the agent's own. */
  netns?: string | undefined;
  tcAttach?: 'auto' | TcAttachKind | undefined;
  pinDir?: string | undefined;
  bpfRoot?: string | undefined;
  log: (message: string) => void;
}

export class TcAttachments {
  /** The WireGuard-device and underlay programs, with what putting one back takes. */
  private fixed: { object: BpfObject; link: LinkInfo; tc: TcLink }[] = [];
  private endpoints = new Map<string, { ifindex: number; links: TcLink[] }>();
  private statuses = new Map<string, AttachmentStatus>();
  private repairs = new AttachmentRepairs();
  private pins: TcxPins | undefined;
  private settled = false;
  kind: TcAttachKind;

  constructor(private readonly options: TcAttachmentOptions) {
    this.kind = options.tcAttach === 'filter' ? 'filter' : 'tcx';
    // with filters too: the first sync then removes links an agent attaching by TCX left
    const dir = options.pinDir ?? defaultPinDir(options.netns, options.bpfRoot);
    if (!dir) {
      if (this.kind === 'tcx')
        options.log(
          `datapath: TCX links not pinned (no bpffs at ${options.bpfRoot ?? BPF_FS}): a killed agent's links go with it`,
        );
      return;
    }
    try {
      this.pins = new TcxPins(dir);
    } catch (err) {
      options.log(`datapath: TCX links not pinned: ${messageOf(err)}`);
    }
  }

  /** A program that stays for the agent's life (the WireGuard device's, the underlay's). */
  attachFixed(object: BpfObject, program: string, link: LinkInfo, direction: TcDirection): void {
    const tc = this.attach(object, program, link, direction);
    if (tc) this.fixed.push({ object, link, tc });
  }

  /** Another attachment's status (the tracing program's), shown with the tc ones. */
  setStatus(key: string, status: AttachmentStatus): void {
    this.statuses.set(key, status);
  }

  /**
   * Makes the pod veths' programs those of `wanted` (by interface name). Returns nothing to
   * throw for one bad interface: its status says what failed, and the next sync retries it.
   */
  syncEndpoints(lxc: BpfObject, wanted: Map<string, LinkInfo>): void {
    for (const [ifname, link] of wanted) {
      const current = this.endpoints.get(ifname);
      if (
        current &&
        current.ifindex === link.ifindex &&
        current.links.length === LXC_PROGRAMS.length &&
        current.links.every((l) => l.attached)
      )
        continue;
      if (current) this.detachEndpoint(ifname);
      const links = LXC_PROGRAMS.map(([program, direction]) =>
        this.attach(lxc, program, link, direction),
      ).filter((l): l is TcLink => l !== undefined);
      this.endpoints.set(ifname, { ifindex: link.ifindex, links });
    }
    for (const ifname of [...this.endpoints.keys()]) if (!wanted.has(ifname)) this.detachEndpoint(ifname);
    if (!this.settled) {
      this.settled = true;
      // every interface this node still has is attached now: what a killed agent left beyond
      // those are pods that went while no agent ran
      for (const line of this.pins?.settle() ?? []) this.options.log(`datapath: ${line}`);
    }
  }

  /**
   * Puts back, at once, every program of ours that something else took away (`tc filter del`, a
   * flush of the qdisc, another program at our handle and priority, `bpftool link detach`): the
   * agent used to report them attached while the pod traffic behind them went unobserved and, for
   * from_endpoint, unsteered. Each one is logged and counted (status `repairs`, a metric). A
   * program whose interface is gone is left to the endpoint sync and the device supervision.
   * Returns what it found taken away.
   */
  verify(lxc: BpfObject | undefined): string[] {
    const found: string[] = [];
    const note = (tc: TcLink, ifname: string) => {
      found.push(this.repairs.note(ifname, tc));
      try {
        tc.detach(); // not ours any more (or gone): this only forgets it
      } catch {
        // nothing left to remove
      }
    };
    for (const fixed of this.fixed) {
      if (filterState(fixed.tc) !== 'missing') continue;
      note(fixed.tc, fixed.link.ifname);
      fixed.tc = this.attach(fixed.object, fixed.tc.program, fixed.link, fixed.tc.direction) ?? fixed.tc;
    }
    for (const [ifname, endpoint] of this.endpoints) {
      endpoint.links = endpoint.links.map((link) => {
        if (filterState(link) !== 'missing' || !lxc) return link;
        note(link, ifname);
        return this.attach(lxc, link.program, { ifindex: endpoint.ifindex, ifname }, link.direction) ?? link;
      });
    }
    if (found.length > 0)
      this.options.log(`datapath: programs taken away by something else, put back: ${found.join(', ')}`);
    return found;
  }

  status(): AttachmentStatus[] {
    return [...this.statuses].map(([key, a]) => this.repairs.decorate(key, a));
  }

  /** Detaches every program (a pinned link's pin goes with it). */
  stop(): void {
    for (const name of [...this.endpoints.keys()]) this.detachEndpoint(name);
    for (const { tc } of this.fixed) {
      try {
        tc.detach();
      } catch {
        // interface already gone
      }
    }
    this.fixed = [];
    this.pins?.close();
    this.pins = undefined;
    this.statuses.clear();
  }

  /**
   * One tc program on one hook. A TCX link is pinned, and a link a killed agent left pinned there
   * is taken over (the hook never goes empty); a cls_bpf filter has a fixed priority and handle,
   * and one a killed agent left is replaced. A TCX link also deletes the filter an agent attaching
   * by filters left.
   */
  private attach(
    object: BpfObject,
    program: string,
    link: LinkInfo,
    direction: TcDirection,
  ): TcLink | undefined {
    const key = attachmentKey(link.ifname, direction);
    const attachAs = (kind: TcAttachKind) => {
      const pin = kind === 'tcx' ? this.pins?.path(link.ifname, direction) : undefined;
      const tc = object.attachTc(program, {
        ifindex: link.ifindex,
        direction,
        kind,
        priority: TC_PRIORITY,
        handle: TC_HANDLE,
        ...(pin ? { pin } : {}),
        ...(this.options.netns ? { netns: this.options.netns } : {}),
      });
      if (pin) this.pins?.used(pin, tc);
      return tc;
    };
    try {
      let tc: TcLink;
      try {
        tc = attachAs(this.kind);
      } catch (err) {
        if (this.kind === 'tcx' && this.options.tcAttach !== 'tcx' && errnoOf(err) === 'EINVAL') {
          this.kind = 'filter';
          this.options.log(
            `datapath: this kernel has no TCX links (${messageOf(err)}); tc programs attach as cls_bpf filters`,
          );
          return this.attach(object, program, link, direction);
        }
        if (this.kind === 'tcx' || !/exist/i.test(messageOf(err))) throw err;
        removeStaleFilterSync(link.ifname, direction, this.options.netns);
        tc = attachAs('filter');
      }
      this.statuses.set(key, {
        interface: link.ifname,
        program,
        direction,
        attached: true,
        kind: tc.kind,
        ...(tc.linkId ? { linkId: tc.linkId } : {}),
      });
      return tc;
    } catch (err) {
      const message = `attach ${program} to ${link.ifname} ${direction}: ${messageOf(err)}`;
      this.statuses.set(key, { interface: link.ifname, program, direction, attached: false, error: message });
      this.options.log(`datapath: ${message}`);
      return undefined;
    }
  }

  private detachEndpoint(name: string): void {
    const current = this.endpoints.get(name);
    this.endpoints.delete(name);
    for (const link of current?.links ?? []) {
      try {
        link.detach();
      } catch (err) {
        // the interface vanished with its programs: nothing left to remove
        this.options.log(`datapath: detach from ${name}: ${messageOf(err)}`);
      }
    }
    for (const [, direction] of LXC_PROGRAMS) this.statuses.delete(attachmentKey(name, direction));
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function errnoOf(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function removeStaleFilterSync(ifname: string, direction: TcDirection, netns?: string): void {
  // Synchronous on purpose: attach happens inside one sync step. Errors mean nothing to remove.
  try {
    execFileSync('tc', [
      ...(netns ? ['-n', netns] : []),
      'filter',
      'del',
      'dev',
      ifname,
      direction,
      'pref',
      String(TC_PRIORITY),
      'handle',
      `0x${TC_HANDLE.toString(16)}`,
      'bpf',
    ]);
  } catch {
    // nothing there
  }
}
