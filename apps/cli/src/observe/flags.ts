// `wirescope observe` flags, Hubble's semantics: filter flags (filter-flags.ts) accumulate into
// one filter (two, ORed, for flags that match either direction, like --pod); --not sends the next
// filter flag to the blacklist; --last/--first/--all/--follow/--since/--until shape the request.
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  GetFlowsRequestSchema,
  outputFormats,
  type GetFlowsRequest,
  type OutputFormat,
} from '@wirescope/flow';
import { readFlags, type Options } from '../args.js';
import { UsageError } from '../command.js';
import {
  connectFlagOptions,
  connectFlagValues,
  connectOptions,
  connectUsage,
  parseDuration,
  type ConnectOptions,
} from './connect.js';
import { FilterTracker, filterFlagOptions, filterUsage, isFilterFlag } from './filter-flags.js';

export interface ObserveOptions {
  request: GetFlowsRequest;
  format: OutputFormat;
  nodeName: boolean;
  /** hubble --print-policy-names: policy verdicts say which policy allowed or denied (set only when given) */
  printPolicyNames?: boolean;
  color: 'auto' | 'always' | 'never';
  /** hubble --debug: connected-node events too (always on stderr). */
  debug: boolean;
  connect: ConnectOptions;
}

/** What the flags other than filters and connection set, before the request is built. */
interface Selection {
  last?: bigint | undefined;
  first?: bigint | undefined;
  all: boolean;
  follow: boolean;
  since?: number | undefined;
  until?: number | undefined;
  format: OutputFormat;
  color: ObserveOptions['color'];
  nodeName: boolean;
  printPolicyNames?: boolean;
  debug: boolean;
  fieldMask: string[];
}

interface SelectionFlag {
  /** parseArgs option: a string (single-valued unless `multiple`) or a boolean. */
  option: Options[string];
  apply(selection: Selection, value: string, flag: string, now: number): void;
}

const colors = ['auto', 'always', 'never'] as const;

/** The request and output flags; declared before the filters so a repeat of one is reported first. */
const selectionFlags: Record<string, SelectionFlag> = {
  last: { option: { type: 'string' }, apply: (s, v, flag) => (s.last = count(flag, v)) },
  first: { option: { type: 'string' }, apply: (s, v, flag) => (s.first = count(flag, v)) },
  all: { option: { type: 'boolean' }, apply: (s) => (s.all = true) },
  follow: { option: { type: 'boolean', short: 'f' }, apply: (s) => (s.follow = true) },
  since: { option: { type: 'string' }, apply: (s, v, flag, now) => (s.since = parseTime(flag, v, now)) },
  until: { option: { type: 'string' }, apply: (s, v, flag, now) => (s.until = parseTime(flag, v, now)) },
  output: {
    option: { type: 'string', short: 'o' },
    apply(s, v) {
      if (!(outputFormats as readonly string[]).includes(v))
        throw new UsageError(`-o "${v}" is unknown; accepted: ${outputFormats.join(', ')}`);
      s.format = v as OutputFormat;
    },
  },
  color: {
    option: { type: 'string' },
    apply(s, v) {
      if (!(colors as readonly string[]).includes(v))
        throw new UsageError(`--color "${v}" is unknown; accepted: ${colors.join(', ')}`);
      s.color = v as ObserveOptions['color'];
    },
  },
  'print-node-name': { option: { type: 'boolean' }, apply: (s) => (s.nodeName = true) },
  'print-policy-names': { option: { type: 'boolean' }, apply: (s) => (s.printPolicyNames = true) },
  debug: { option: { type: 'boolean', short: 'D' }, apply: (s) => (s.debug = true) },
  'field-mask': {
    option: { type: 'string', multiple: true },
    apply: (s, v) =>
      s.fieldMask.push(
        ...v
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
      ),
  },
};

const observeFlagOptions: Options = {
  ...connectFlagOptions,
  ...Object.fromEntries(Object.entries(selectionFlags).map(([name, { option }]) => [name, option])),
  not: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...filterFlagOptions,
};

export const observeUsage = `usage: wirescope observe [flags]
  selection: --last N | --first N | --all, --follow/-f, --since T, --until T (T: 5m, 1h30m or RFC3339)
  filters (repeat to OR values; --not negates the next filter flag; --X matches either side,
  --from-X the source, --to-X the destination):
${filterUsage('    ')}
  output: -o compact|json|jsonpb|dict|table, --print-node-name, --print-policy-names, --color auto|always|never,
    --debug/-D (node status on stderr includes connected nodes, not only unavailable/error/gone)
  ${connectUsage}`;

function count(flag: string, v: string): bigint {
  if (!/^\d+$/.test(v)) throw new UsageError(`${flag} "${v}" is not a number of flows`);
  return BigInt(v);
}

/** Relative ("5m" = five minutes ago) or absolute RFC3339 time. */
export function parseTime(flag: string, v: string, now = Date.now()): number {
  if (/^\d/.test(v) && !/^\d{4}-\d{2}-\d{2}/.test(v)) return now - parseDuration(v, flag);
  const ms = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v) || Number.isNaN(ms)) {
    throw new UsageError(
      `${flag} "${v}" is not a relative time (5m, 1h30m) or RFC3339 (2026-11-21T10:00:00Z)`,
    );
  }
  return ms;
}

export function parseObserveArgs(args: string[], now = Date.now()): ObserveOptions {
  const given = readFlags(args, observeFlagOptions, { name: 'observe', usage: observeUsage });
  const allow = new FilterTracker();
  const deny = new FilterTracker();
  const selection: Selection = {
    all: false,
    follow: false,
    format: 'compact',
    color: 'auto',
    nodeName: false,
    debug: false,
    fieldMask: [],
  };
  let negateNext = false;
  for (const flag of given) {
    if (flag.name === 'not') {
      if (negateNext) throw new UsageError('--not --not: --not applies to the next filter flag');
      negateNext = true;
    } else if (isFilterFlag(flag.name)) {
      (negateNext ? deny : allow).add(flag, given);
      negateNext = false;
    } else {
      selectionFlags[flag.name]?.apply(selection, flag.value ?? '', flag.flag, now);
    }
  }
  if (negateNext)
    throw new UsageError('--not must be followed by a filter flag (e.g. --not --verdict DROPPED)');
  return {
    request: buildRequest(selection, allow, deny),
    format: selection.format,
    nodeName: selection.nodeName,
    ...(selection.printPolicyNames ? { printPolicyNames: true } : {}),
    color: selection.color,
    debug: selection.debug,
    connect: connectOptions(connectFlagValues(given)),
  };
}

function buildRequest(s: Selection, allow: FilterTracker, deny: FilterTracker): GetFlowsRequest {
  const { last, first, all, follow, since, until } = s;
  if (follow && first !== undefined)
    throw new UsageError('--first cannot be combined with --follow; use --last N --follow');
  if ([last !== undefined, first !== undefined, all].filter(Boolean).length > 1)
    throw new UsageError('give only one of --last, --first, --all');
  if (since !== undefined && until !== undefined && since > until)
    throw new UsageError('--since is after --until');
  // hubble's default: the last 20 flows, unless following or bounded by time
  let number = 0n;
  if (first !== undefined) number = first;
  else if (last !== undefined) number = last;
  else if (!all && !follow && since === undefined && until === undefined) number = 20n;
  return create(GetFlowsRequestSchema, {
    number,
    first: first !== undefined,
    follow,
    whitelist: allow.result(),
    blacklist: deny.result(),
    since: since !== undefined ? timestampFromMs(since) : undefined,
    until: until !== undefined ? timestampFromMs(until) : undefined,
    fieldMask: s.fieldMask.length ? { paths: s.fieldMask } : undefined,
  });
}
