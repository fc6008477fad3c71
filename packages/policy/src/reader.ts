/**
 * A strict reader over the YAML node tree: every value with its line, every field checked
 * against what the object accepts, problems collected (never thrown) so a file reports them all.
 */
import { LineCounter, isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import { PolicyErrorCode, type PolicyProblem } from './errors.js';

/** Cilium fields Wirescope knows but does not implement, per object: named in the refusal. */
const NOT_IMPLEMENTED: Record<string, readonly string[]> = {
  rule: ['nodeSelector'],
  ingress: ['fromCIDR', 'fromCIDRSet', 'fromGroups', 'fromNodes', 'fromRequires', 'icmps', 'authentication'],
  egress: [
    'toCIDR',
    'toCIDRSet',
    'toServices',
    'toFQDNs',
    'toGroups',
    'toNodes',
    'toRequires',
    'icmps',
    'authentication',
  ],
  toPorts: ['rules', 'listener', 'originatingTLS', 'terminatingTLS', 'serverNames'],
};

/** metadata fields a `kubectl get -o yaml` carries: accepted and ignored. */
export const IGNORED_METADATA = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
];

export type Located = { node: Node | null | undefined; field: string };

export class Reader {
  readonly problems: PolicyProblem[] = [];
  constructor(
    private readonly file: string,
    private readonly lines: LineCounter,
    private readonly fallbackOffset: number,
  ) {}

  line(node: Node | null | undefined): number {
    const offset = node?.range?.[0] ?? this.fallbackOffset;
    return this.lines.linePos(offset).line;
  }

  problem(code: PolicyErrorCode, at: Located, message: string): void {
    this.problems.push({ code, file: this.file, line: this.line(at.node), field: at.field, message });
  }

  /** The entries of a map node, refusing keys outside `known` (and naming Cilium's unimplemented ones). */
  fields(at: Located, known: readonly string[], object: string): Map<string, Located> | undefined {
    const out = new Map<string, Located>();
    if (at.node === null || at.node === undefined) return out;
    if (!isMap(at.node)) {
      this.problem(PolicyErrorCode.INVALID_VALUE, at, 'must be a mapping');
      return undefined;
    }
    for (const pair of (at.node as YAMLMap).items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : '';
      const field = at.field ? `${at.field}.${key}` : key;
      const located = { node: (pair.value as Node | null) ?? keyNode, field };
      if (known.includes(key)) out.set(key, { node: pair.value as Node | null, field });
      else if (NOT_IMPLEMENTED[object]?.includes(key))
        this.problem(
          PolicyErrorCode.NOT_IMPLEMENTED,
          { node: keyNode, field },
          `not implemented by Wirescope; implemented here: ${known.join(', ')}`,
        );
      else
        this.problem(
          PolicyErrorCode.UNKNOWN_FIELD,
          { node: keyNode ?? located.node, field },
          `unknown field; accepted: ${known.join(', ')}`,
        );
    }
    return out;
  }

  list(at: Located | undefined): Located[] | undefined {
    if (!at || at.node === null || at.node === undefined) return undefined;
    if (!isSeq(at.node)) {
      this.problem(PolicyErrorCode.INVALID_VALUE, at, 'must be a list');
      return undefined;
    }
    return at.node.items.map((item, i) => ({ node: item as Node | null, field: `${at.field}[${i}]` }));
  }

  string(at: Located | undefined, opts: { required?: boolean } = {}): string | undefined {
    if (!at || at.node === null || at.node === undefined) {
      if (opts.required && at) this.problem(PolicyErrorCode.INVALID_VALUE, at, 'is required');
      return undefined;
    }
    if (!isScalar(at.node) || typeof at.node.value === 'object') {
      this.problem(PolicyErrorCode.INVALID_VALUE, at, 'must be a string');
      return undefined;
    }
    return String(at.node.value);
  }

  boolean(at: Located | undefined): boolean | undefined {
    if (!at || at.node === null || at.node === undefined) return undefined;
    if (!isScalar(at.node) || typeof at.node.value !== 'boolean') {
      this.problem(PolicyErrorCode.INVALID_VALUE, at, 'must be true or false');
      return undefined;
    }
    return at.node.value;
  }

  stringMap(at: Located | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    if (!at || at.node === null || at.node === undefined) return out;
    if (!isMap(at.node)) {
      this.problem(PolicyErrorCode.INVALID_VALUE, at, 'must be a mapping of strings');
      return out;
    }
    for (const pair of at.node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const value = this.string({ node: pair.value as Node | null, field: `${at.field}.${key}` });
      if (value !== undefined) out[key] = value;
    }
    return out;
  }
}
