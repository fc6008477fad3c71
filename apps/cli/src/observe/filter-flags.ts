// observe's filter flags, one row each: the parseArgs options, the usage lines and the FlowFilter
// fields all come from this table, so a new filter flag is one row (and its value parser).
import { create } from '@bufbuild/protobuf';
import {
  DropReasonSchema,
  FlowFilterExtensionSchema,
  FlowFilterSchema,
  TrafficDirectionSchema,
  VerdictSchema,
  packFilterExtension,
  type FlowFilter,
  type FlowFilterExtension,
} from '@wirescope/flow';
import type { GivenFlag, Options } from '../args.js';
import * as value from './filter-values.js';
import type { ParseValue, Side } from './filter-values.js';

type FilterInit = Omit<FlowFilter, '$typeName' | '$unknown' | 'extensions'>;
type ExtensionInit = Omit<FlowFilterExtension, '$typeName' | '$unknown'>;
type ListField<T> = { [K in keyof T]-?: T[K] extends readonly unknown[] ? K : never }[keyof T];
type FilterField = ListField<FilterInit>;
type ExtensionField = ListField<ExtensionInit>;
type ElementOf<T> = T extends readonly (infer E)[] ? E : never;
type FieldOf<K extends FilterField> = {
  [J in FilterField]: ElementOf<FilterInit[J]> extends ElementOf<FilterInit[K]> ? J : never;
}[FilterField];

interface RowBase {
  /** The flag; a row with `sides` also makes --from-X (source) and --to-X (destination). */
  flag: `--${string}`;
  /** A one-letter alias (of the either-side flag for a family). */
  short?: string;
  /** What the value looks like, for the usage; a row without one is a boolean flag. */
  value?: string;
}

/** ANDed into every filter of the request. */
type FieldRow = {
  [K in FilterField]: RowBase & { field: K; parse: ParseValue<ElementOf<FilterInit[K]>> };
}[FilterField];
/** Wirescope's own fields (served by Wirescope servers only), packed into FlowFilter.extensions. */
type ExtensionRow = {
  [K in ExtensionField]: RowBase & { extension: K; parse: ParseValue<ElementOf<ExtensionInit[K]>> };
}[ExtensionField];
/** --X matches either side (two ORed filters, as hubble), --from-X the source, --to-X the destination. */
type SidedRow = {
  [K in FilterField]: RowBase & {
    sides: { source: K; destination: FieldOf<K> };
    parse: ParseValue<ElementOf<FilterInit[K]>>;
  };
}[FilterField];

export type FilterRow = FieldRow | ExtensionRow | SidedRow;

const sides = <K extends FilterField>(source: K, destination: FieldOf<K>) => ({ source, destination });

export const filterRows: FilterRow[] = [
  {
    flag: '--namespace',
    short: 'n',
    value: 'NS',
    sides: sides('sourcePod', 'destinationPod'),
    parse: value.namespaceSelector,
  },
  { flag: '--pod', value: '[NS/]POD', sides: sides('sourcePod', 'destinationPod'), parse: value.podName },
  { flag: '--ip', value: 'IP|CIDR', sides: sides('sourceIp', 'destinationIp'), parse: value.text },
  {
    flag: '--label',
    short: 'l',
    value: 'SELECTOR',
    sides: sides('sourceLabel', 'destinationLabel'),
    parse: value.text,
  },
  { flag: '--port', value: 'N', sides: sides('sourcePort', 'destinationPort'), parse: value.text },
  {
    flag: '--identity',
    value: 'N',
    sides: sides('sourceIdentity', 'destinationIdentity'),
    parse: value.numericIdentity,
  },
  { flag: '--fqdn', value: 'NAME', sides: sides('sourceFqdn', 'destinationFqdn'), parse: value.text },
  {
    flag: '--workload',
    value: 'NAME',
    sides: sides('sourceWorkload', 'destinationWorkload'),
    parse: value.workload,
  },
  {
    flag: '--protocol',
    value: 'tcp|udp|icmpv4|icmpv6|sctp|http|dns',
    field: 'protocol',
    parse: value.protocol,
  },
  { flag: '--verdict', value: 'NAME', field: 'verdict', parse: value.enumValue(VerdictSchema) },
  {
    flag: '--type',
    short: 't',
    value: 'drop|trace[:POINT]|policy-verdict|l7',
    field: 'eventType',
    parse: value.eventType,
  },
  { flag: '--node-name', value: 'GLOB', field: 'nodeName', parse: value.text },
  {
    flag: '--drop-reason-desc',
    value: 'NAME',
    field: 'dropReasonDesc',
    parse: value.enumValue(DropReasonSchema),
  },
  {
    flag: '--traffic-direction',
    value: 'ingress|egress',
    field: 'trafficDirection',
    parse: value.enumValue(TrafficDirectionSchema),
  },
  { flag: '--http-status', value: 'CODE', field: 'httpStatusCode', parse: value.text },
  { flag: '--http-method', value: 'METHOD', field: 'httpMethod', parse: value.text },
  { flag: '--http-path', value: 'REGEX', field: 'httpPath', parse: value.text },
  { flag: '--tcp-flags', value: 'SYN,ACK', field: 'tcpFlags', parse: value.tcpFlags },
  { flag: '--ip-version', value: 'v4|v6', field: 'ipVersion', parse: value.ipVersion },
  { flag: '--interface', value: 'NAME', field: 'interface', parse: value.networkInterface },
  { flag: '--uuid', value: 'UUID', field: 'uuid', parse: value.text },
  { flag: '--reply', field: 'reply', parse: value.always(true) },
  { flag: '--encrypted', field: 'encrypted', parse: value.always(true) },
  { flag: '--unencrypted', field: 'encrypted', parse: value.always(false) },
  { flag: '--mechanism', value: 'wireguard|none', extension: 'mechanism', parse: value.mechanism },
  { flag: '--peer', value: 'NODE', extension: 'peerNode', parse: value.peerNode },
];

/** One flag the table makes: a row, and for a family which side this member selects. */
interface FilterFlag {
  row: FilterRow;
  side?: Side | undefined;
}

const filterFlags = new Map<string, FilterFlag>(
  filterRows.flatMap((row): [string, FilterFlag][] => {
    const name = row.flag.slice(2);
    if (!('sides' in row)) return [[name, { row }]];
    return [
      [name, { row, side: 'either' }],
      [`from-${name}`, { row, side: 'source' }],
      [`to-${name}`, { row, side: 'destination' }],
    ];
  }),
);

/** The filter flags as node:util parseArgs options; every one may repeat (its values OR). */
export const filterFlagOptions: Options = Object.fromEntries(
  [...filterFlags].map(([name, { row, side }]) => [
    name,
    {
      type: row.value === undefined ? 'boolean' : 'string',
      multiple: true,
      ...(row.short && side !== 'source' && side !== 'destination' ? { short: row.short } : {}),
    },
  ]),
);

export function isFilterFlag(name: string): boolean {
  return filterFlags.has(name);
}

/** The usage lines of the filter flags, wrapped, in table order. */
export function filterUsage(indent: string, width = 100): string {
  const items = filterRows.map((row) => {
    const name = row.short ? `${row.flag}/-${row.short}` : row.flag;
    const flags = 'sides' in row ? `${name}, --from-${row.flag.slice(2)}, --to-${row.flag.slice(2)}` : name;
    return row.value === undefined ? flags : `${flags} ${row.value}`;
  });
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    if (line && indent.length + line.length + item.length + 2 > width) {
      lines.push(`${indent}${line},`);
      line = item;
    } else line = line ? `${line}, ${item}` : item;
  }
  return [...lines, `${indent}${line}`].join('\n');
}

/** A list field of a filter message, for pushing a value the row's types have already checked. */
function list(message: FilterInit | ExtensionInit, field: FilterField | ExtensionField): unknown[] {
  return (message as unknown as Record<string, unknown[]>)[field]!;
}

/** Accumulates filter flags the way hubble's filter tracker does. */
export class FilterTracker {
  private readonly left: FilterInit = create(FlowFilterSchema);
  private readonly right: FilterInit = create(FlowFilterSchema);
  /** Wirescope's own fields of each filter (--peer, --mechanism), packed into its extensions. */
  private readonly leftExtension = create(FlowFilterExtensionSchema);
  private readonly rightExtension = create(FlowFilterExtensionSchema);
  private twoSided = false;
  private used = false;

  /** Adds one given filter flag: its parsed value into the fields its row names. */
  add(given: GivenFlag, all: readonly GivenFlag[]): void {
    const { row, side } = filterFlags.get(given.name)!;
    const parsed = row.parse(given.value ?? '', { flag: given.flag, side, given: all });
    if (parsed === undefined) return;
    this.used = true;
    if ('extension' in row) {
      for (const e of [this.leftExtension, this.rightExtension]) list(e, row.extension).push(parsed);
    } else if ('field' in row) {
      for (const f of [this.left, this.right]) list(f, row.field).push(parsed);
    } else if (side === 'either') {
      // source side in the left filter, destination side in the right one: either direction matches
      list(this.left, row.sides.source).push(parsed);
      list(this.right, row.sides.destination).push(parsed);
      this.twoSided = true;
    } else {
      const field = side === 'source' ? row.sides.source : row.sides.destination;
      for (const f of [this.left, this.right]) list(f, field).push(parsed);
    }
  }

  result(): FlowFilter[] {
    if (!this.used) return [];
    const build = (f: FilterInit, ext: FlowFilterExtension) =>
      create(FlowFilterSchema, { ...f, extensions: packFilterExtension(ext) });
    const left = build(this.left, this.leftExtension);
    return this.twoSided ? [left, build(this.right, this.rightExtension)] : [left];
  }
}
