import { run, type RunOptions } from '../exec.js';

/**
 * Steering by mark, as Cilium's WireGuard datapath did before its redirect (its linux_defaults:
 * MARK_MAGIC_ENCRYPT 0x0e00 under the magic mask 0x0f00, table 201, rule priority 1): from_endpoint
 * marks a cross-node pod packet that has a peer and hands it to the stack, and this rule sends every
 * marked packet through table 201 — the WireGuard device, whatever the main table says — before the
 * main table is consulted. Table 201's unreachable default refuses a marked packet while the device is
 * gone instead of letting it fall through to a route in clear.
 *
 * Why not bpf_redirect into the device: bench:datapath measured the redirect itself (programs that do
 * nothing else) at 0.940 of the unobserved throughput, and programs that do nothing at all at 1.013;
 * the full datapath with the mark went from 0.942 (redirect) to 0.965. The forwarding path orphans
 * the sender's skb at ip_rcv; a redirected one keeps the pod's socket through the device's qdisc.
 */
export const ENCRYPT_MARK = 0x0e00;
export const MARK_MAGIC_MASK = 0x0f00;
export const WIREGUARD_TABLE = 201;
export const WIREGUARD_RULE_PRIORITY = 1;
/** Below every route the agent adds to the table (metric 0): only taken when the device is gone. */
const UNREACHABLE_METRIC = 4096;

const hex = (n: number): string => `0x${n.toString(16)}`;
/** as `ip rule` writes it: 0xe00/0xf00 */
const MARK_SPEC = `${hex(ENCRYPT_MARK)}/${hex(MARK_MAGIC_MASK)}`;

export interface MarkSteeringState {
  /** the fwmark rule is in place */
  rule: boolean;
  /** table 201 sends to the WireGuard device */
  route: boolean;
  /** table 201 refuses marked packets when the device is gone */
  unreachable: boolean;
}

interface IpRule {
  priority?: number;
  fwmark?: string;
  fwmask?: string;
  table?: string;
}
interface IpRoute {
  type?: string;
  dst?: string;
  dev?: string;
  metric?: number;
}

/** Parses `ip -j -force -batch -` given "rule show" then "route show table 201" (one JSON array a line). */
export function parseMarkSteering(batchOutput: string, device: string): MarkSteeringState {
  const arrays = batchOutput
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('['))
    .map((l) => JSON.parse(l) as unknown[]);
  const rules = (arrays[0] ?? []) as IpRule[];
  // a table that does not exist yet prints an error and no array: no routes
  const routes = (arrays[1] ?? []) as IpRoute[];
  return {
    rule: rules.some(
      (r) =>
        r.priority === WIREGUARD_RULE_PRIORITY &&
        Number(r.fwmark) === ENCRYPT_MARK &&
        Number(r.fwmask) === MARK_MAGIC_MASK &&
        r.table === String(WIREGUARD_TABLE),
    ),
    route: routes.some((r) => r.dst === 'default' && r.dev === device && (r.type ?? 'unicast') === 'unicast'),
    unreachable: routes.some((r) => r.dst === 'default' && r.type === 'unreachable'),
  };
}

export interface MarkSteeringStatus extends MarkSteeringState {
  /** "0xe00/0xf00" */
  mark: string;
  table: number;
  /** times something had taken part of it away and the agent put it back */
  repairs: number;
}

/** The rule and table of the mark steering in the caller's namespace, kept in place (IPv4). */
export class MarkSteering {
  private last: MarkSteeringState | undefined;
  private repairCount = 0;

  /** netns: a named namespace (`ip -n`) instead of the caller's, for tests */
  constructor(
    private readonly device: string,
    private readonly log: (line: string) => void,
    private readonly netns?: string,
  ) {}

  private ip(args: string[], options: RunOptions = {}): ReturnType<typeof run> {
    return run('ip', [...(this.netns ? ['-n', this.netns] : []), '-4', ...args], options);
  }

  async read(): Promise<MarkSteeringState> {
    // one process for both readings: the resync loop runs this every few seconds
    const { stdout } = await this.ip(['-j', '-force', '-batch', '-'], {
      input: `rule show\nroute show table ${WIREGUARD_TABLE}\n`,
      allowFailure: true,
    });
    return parseMarkSteering(stdout, this.device);
  }

  /** What `ip` adds for each part that is missing, and how the log names it. */
  private parts(): { part: keyof MarkSteeringState; label: string; args: string[] }[] {
    const table = ['table', String(WIREGUARD_TABLE)];
    return [
      {
        part: 'rule',
        label: 'rule',
        args: [
          'rule',
          'add',
          'pref',
          String(WIREGUARD_RULE_PRIORITY),
          'fwmark',
          MARK_SPEC,
          'lookup',
          String(WIREGUARD_TABLE),
        ],
      },
      {
        part: 'route',
        label: 'route',
        args: ['route', 'replace', 'default', 'dev', this.device, ...table, 'proto', 'static'],
      },
      {
        part: 'unreachable',
        label: 'unreachable default',
        args: [
          'route',
          'replace',
          'unreachable',
          'default',
          'metric',
          String(UNREACHABLE_METRIC),
          ...table,
          'proto',
          'static',
        ],
      },
    ];
  }

  /**
   * Adds what is missing. The first call sets it up; a later one that finds something taken away
   * (an `ip rule flush`, the device recreated) puts it back, logs it and counts it as a repair.
   * The status keeps what is in place afterwards: a part whose `ip` call failed stays false.
   */
  async ensure(): Promise<MarkSteeringState> {
    const found = await this.read();
    const state = { ...found };
    const added: string[] = [];
    const firstTime = this.last === undefined;
    try {
      for (const { part, label, args } of this.parts()) {
        if (state[part]) continue;
        await this.ip(args);
        state[part] = true;
        added.push(label);
      }
    } finally {
      this.last = state;
      if (added.length > 0 && !firstTime) {
        this.repairCount += 1;
        this.log(
          `steering: put back the encrypt-mark ${added.join(', ')} (table ${WIREGUARD_TABLE}) that something removed`,
        );
      } else if (added.length > 0) {
        this.log(
          `steering: fwmark ${MARK_SPEC} -> table ${WIREGUARD_TABLE} -> ${this.device} (priority ${WIREGUARD_RULE_PRIORITY})`,
        );
      }
    }
    return found;
  }

  status(): MarkSteeringStatus | undefined {
    if (!this.last) return undefined;
    return {
      ...this.last,
      mark: MARK_SPEC,
      table: WIREGUARD_TABLE,
      repairs: this.repairCount,
    };
  }
}
