// The lab spec's shape as TypeBox schemas: which fields each entry has, their types, ranges,
// patterns and defaults. Every schema says in its own words what it accepts (`problem`, and
// `unknownField` for an object's extra keys), so a violation reads as before: the field, the value
// and what is accepted. What needs more than one entry (duplicates, overlaps, a pod's node and
// address) is checked in spec.ts once the shapes are right.
import { FormatRegistry, Type, type TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import { isDnsSubdomain, parseCidr } from '@wirescope/agent';

/** The lab's underlay: node addresses and the control plane live here, inside lab namespaces only. */
export const UNDERLAY_CIDR = '10.77.0.0/24';
export const CONTROL_PLANE_ADDRESS = '10.77.0.254';

/** What this file adds to a schema's options: how a failing value is described. */
interface Wording {
  /** The message for a value this schema refuses (undefined: the field is missing). */
  problem?: (value: unknown) => string;
  /** The message for a key an object (or a record's key pattern) does not accept. */
  unknownField?: string | ((key: string, value: unknown) => string);
  /** Report at the enclosing field (a list's item: the list is what is wrong). */
  reportAtParent?: boolean;
  /** YAML's `port: null` (or `port:`) means "not given": the default applies. */
  nullIsAbsent?: boolean;
}

const DNS_NAME = '^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$';
const LABEL_KEY = '^[A-Za-z0-9]([A-Za-z0-9._/-]{0,62})$';
const LABEL_VALUE = '^[A-Za-z0-9._-]{0,63}$';
const MIN_POD_PREFIX = 16;
const MAX_POD_PREFIX = 28;

const isHttpUrl = (s: string): boolean => {
  try {
    return new URL(s).protocol === 'http:';
  } catch {
    return false;
  }
};
FormatRegistry.Set('wirescope-lab-node-name', isDnsSubdomain);
FormatRegistry.Set('wirescope-lab-http-url', isHttpUrl);
FormatRegistry.Set('wirescope-lab-pod-cidr', (s) => {
  const cidr = parseCidr(s);
  return cidr !== undefined && cidr.prefixLength >= MIN_POD_PREFIX && cidr.prefixLength <= MAX_POD_PREFIX;
});

const given = (value: unknown): string =>
  value === undefined ? 'required' : `"${String(value)}" is not valid`;

/** An object that takes exactly `properties`; `notObject` is what is said when it is no mapping. */
function strictObject<P extends Record<string, TSchema>>(
  properties: P,
  notObject: string,
  unknownField?: string,
) {
  const wording: Wording = {
    problem: () => notObject,
    unknownField: unknownField ?? `unknown field; accepted: ${Object.keys(properties).join(', ')}`,
  };
  return Type.Object(properties, { additionalProperties: false, ...wording });
}

const int = (min: number, max: number, fallback?: number) => {
  const problem = (v: unknown) => `${given(v)}; accepted: an integer from ${min} to ${max}`;
  return fallback === undefined
    ? Type.Integer({ minimum: min, maximum: max, problem, nullIsAbsent: true })
    : Type.Optional(
        Type.Integer({ minimum: min, maximum: max, default: fallback, problem, nullIsAbsent: true }),
      );
};

const text = (accepted: string, options: { pattern?: string; format?: string }) =>
  Type.String({ ...options, problem: (v: unknown) => `${given(v)}; accepted: ${accepted}` });

const interval = () => int(100, 600_000, 1000);

/** One schema per workload kind, chosen by `kind`. */
export const WORKLOAD_SCHEMAS = {
  none: { kind: Type.Literal('none') },
  'http-server': {
    kind: Type.Literal('http-server'),
    port: int(1, 65535, 8080),
    upstreams: Type.Optional(
      Type.Array(
        Type.String({
          format: 'wirescope-lab-http-url',
          reportAtParent: true,
          problem: () => UPSTREAMS,
        }),
        { default: [], problem: () => UPSTREAMS, nullIsAbsent: true },
      ),
    ),
  },
  'http-client': {
    kind: Type.Literal('http-client'),
    target: text('an http:// URL (host = pod.namespace or an IP)', { format: 'wirescope-lab-http-url' }),
    intervalMs: interval(),
  },
  'dns-server': { kind: Type.Literal('dns-server'), port: int(1, 65535, 53) },
  'udp-sender': {
    kind: Type.Literal('udp-sender'),
    target: text('a host (pod.namespace) or an IPv4 address', { pattern: '^[a-z0-9.-]+$' }),
    port: int(1, 65535),
    intervalMs: interval(),
  },
} as const;
const UPSTREAMS = 'expected a list of http:// URLs (host = pod.namespace or an IP)';

export type WorkloadKind = keyof typeof WORKLOAD_SCHEMAS;
export const WORKLOAD_KINDS = Object.keys(WORKLOAD_SCHEMAS) as WorkloadKind[];

/** A workload's own fields, once its kind is known. */
export const workloadSchema = (kind: WorkloadKind) => {
  const fields = WORKLOAD_SCHEMAS[kind];
  return strictObject(
    fields,
    '',
    `unknown field for kind ${kind}; accepted: ${Object.keys(fields).join(', ')}`,
  );
};

/** What picks the workload's schema: a mapping with a known kind. */
export const WorkloadKindSchema = Type.Object(
  {
    kind: Type.Union(
      WORKLOAD_KINDS.map((k) => Type.Literal(k)),
      {
        problem: (v: unknown) =>
          `"${String(v ?? '')}" is not a workload kind; accepted: ${WORKLOAD_KINDS.join(', ')}`,
      },
    ),
  },
  { problem: () => `expected a mapping with a kind; accepted kinds: ${WORKLOAD_KINDS.join(', ')}` },
);

export const NodeEntrySchema = strictObject(
  {
    name: Type.String({
      format: 'wirescope-lab-node-name',
      problem: (v: unknown) =>
        `"${String(v ?? '')}" is not a valid node name; accepted: a DNS-1123 subdomain like a Kubernetes node name ` +
        '(lower-case letters, digits, "-" and ".", each dot-separated part starting and ending with a letter or digit, up to 253)',
    }),
    // Where in the underlay, and not taken: checked across the nodes.
    address: Type.Optional(Type.String({ problem: (v: unknown) => unusableAddress(v), nullIsAbsent: true })),
    podCIDR: Type.String({
      format: 'wirescope-lab-pod-cidr',
      problem: (v: unknown) =>
        `"${String(v ?? '')}" is not valid; accepted: an IPv4 network /${MIN_POD_PREFIX}../${MAX_POD_PREFIX} with no host bits, such as 10.244.1.0/24`,
    }),
  },
  'expected a mapping with name, podCIDR and optional address',
);

export const unusableAddress = (v: unknown): string =>
  `"${String(v)}" is not usable; accepted: a host address in ${UNDERLAY_CIDR} other than ${CONTROL_PLANE_ADDRESS}`;

const labelProblem = (key: string, value: unknown): string =>
  `label ${key}=${String(value)} is not valid; accepted: keys and values of letters, digits, ".", "_", "-" (keys also "/")`;

export const PodEntrySchema = strictObject(
  {
    name: Type.String({
      pattern: DNS_NAME,
      problem: (v: unknown) =>
        `"${String(v ?? '')}" is not a valid pod name; accepted: lower-case letters, digits and "-", up to 32`,
    }),
    namespace: Type.Optional(
      Type.String({
        pattern: DNS_NAME,
        default: 'default',
        nullIsAbsent: true,
        problem: (v: unknown) =>
          `"${String(v)}" is not a valid namespace; accepted: lower-case letters, digits and "-", up to 32`,
      }),
    ),
    // One of the spec's nodes, and an address in that node's pod CIDR: checked across the spec.
    node: Type.Optional(Type.Unknown()),
    ip: Type.Optional(Type.Unknown()),
    labels: Type.Optional(
      Type.Record(
        Type.String({ pattern: LABEL_KEY }),
        // YAML reads `tier: 1` as a number: label values are its text.
        Type.Union([Type.String({ pattern: LABEL_VALUE }), Type.Number(), Type.Boolean()], {
          labelValue: true,
        }),
        {
          additionalProperties: false,
          problem: () => 'expected a mapping of label key to string value',
          unknownField: labelProblem,
        },
      ),
    ),
    workload: Type.Optional(Type.Unknown()),
  },
  'expected a mapping with name, namespace, node, labels, workload',
);

export const DocumentSchema = strictObject(
  {
    nodes: Type.Array(Type.Unknown(), {
      minItems: 1,
      problem: () => 'required: a list of at least one node',
    }),
    pods: Type.Optional(Type.Array(Type.Unknown(), { problem: () => 'expected a list of pods' })),
    // CiliumNetworkPolicy files or directories, relative to the spec: applied by `lab up`
    policies: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        problem: () => 'expected a list of policy files or directories (relative to the spec)',
      }),
    ),
  },
  'expected a mapping with "nodes", "pods" and "policies"',
);

export type Path = (string | number)[];

export interface ShapeProblem {
  path: Path;
  message: string;
  /** An unknown field: point at its key, not its value. */
  atKey: boolean;
}

/** "/pods/0/labels/app~1name" -> ['pods', 0, 'labels', 'app/name'] (numbers where `value` has a list). */
function pathOf(pointer: string, value: unknown): Path {
  const path: Path = [];
  let node = value;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    const part = Array.isArray(node) ? Number(key) : key;
    path.push(part);
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  }
  return path;
}

/**
 * Every way `value` (found at `at` in the document) breaks `schema`, one problem per field, in
 * the schema's wording.
 */
export function shapeProblems(schema: TSchema, value: unknown, at: Path): ShapeProblem[] {
  const problems: ShapeProblem[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(schema, value)) {
    const wording = error.schema as Wording & { labelValue?: boolean };
    let path = pathOf(error.path, value);
    let message: string;
    let atKey = false;
    const key = String(path.at(-1) ?? '');
    if (error.type === ValueErrorType.ObjectAdditionalProperties) {
      const unknown = wording.unknownField ?? 'unknown field';
      message = typeof unknown === 'string' ? unknown : unknown(key, error.value);
      atKey = typeof unknown === 'string';
    } else if (wording.labelValue) {
      message = labelProblem(key, error.value);
    } else {
      if (wording.reportAtParent) path = path.slice(0, -1);
      message = wording.problem?.(error.value) ?? error.message;
    }
    const id = JSON.stringify(path);
    if (seen.has(id)) continue;
    seen.add(id);
    problems.push({ path: [...at, ...path], message, atKey });
  }
  return problems;
}

/** An object entry without the null fields that mean "not given" (nullIsAbsent), as a copy. */
export function withoutAbsentNulls(schema: TSchema, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const properties = (schema as { properties?: Record<string, Wording> }).properties ?? {};
  return Object.fromEntries(
    Object.entries(value).filter(([key, v]) => !(v === null && properties[key]?.nullIsAbsent)),
  );
}

/** `value` with the schema's defaults filled in (a copy). */
export function withDefaults<T>(schema: TSchema, value: unknown): T {
  return Value.Default(schema, structuredClone(value)) as T;
}
