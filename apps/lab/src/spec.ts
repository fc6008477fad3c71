// The lab spec (lab/cluster.yaml or --spec FILE): read, validated against its schema
// (spec-schema.ts), then checked across entries; every problem is reported at once, each as
// "file:line: field: what is wrong; accepted: …", before anything is created.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PolicyError, formatProblem, loadPolicyFiles } from '@wirescope/policy';
import { LineCounter, parseDocument } from 'yaml';
import {
  cidrContains,
  cidrsOverlap,
  cidrSize,
  formatIPv4,
  parseCidr,
  parseIPv4,
  type Cidr,
} from '@wirescope/agent';
import { derivedNameClashes } from './names.js';
import { ProblemList } from './spec-lines.js';
import {
  CONTROL_PLANE_ADDRESS,
  DocumentSchema,
  NodeEntrySchema,
  PodEntrySchema,
  UNDERLAY_CIDR,
  WorkloadKindSchema,
  shapeProblems,
  unusableAddress,
  withDefaults,
  withoutAbsentNulls,
  workloadSchema,
  type Path,
  type WorkloadKind,
} from './spec-schema.js';

export { CONTROL_PLANE_ADDRESS, UNDERLAY_CIDR };

export type Workload =
  | { kind: 'none' }
  | { kind: 'http-server'; port: number; upstreams: string[] }
  | { kind: 'http-client'; target: string; intervalMs: number }
  | { kind: 'dns-server'; port: number }
  | { kind: 'udp-sender'; target: string; port: number; intervalMs: number };

export interface NodeSpec {
  name: string;
  address: string;
  podCIDR: string;
}

export interface PodSpec {
  name: string;
  namespace: string;
  node: string;
  ip: string;
  labels: Record<string, string>;
  workload: Workload;
}

/** A network policy the lab applies at `lab up` (parsed, so a bad file fails before anything is created). */
export interface LabPolicy {
  kind: string;
  name: string;
  namespace: string;
  text: string;
  file: string;
}

export interface LabSpec {
  file: string;
  nodes: NodeSpec[];
  pods: PodSpec[];
  policies: LabPolicy[];
}

/** Every problem in a spec, each "file:line: field: what is wrong; accepted: …". */
export class SpecError extends Error {
  override name = 'SpecError';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

/** Expansions of YAML aliases a spec may make; more is a "billion laughs" document, not a lab. */
const MAX_ALIAS_COUNT = 100;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads and validates a spec file; throws SpecError listing every problem, before anything is created. */
export function loadSpec(file: string): LabSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SpecError([`${file}: cannot read the spec: ${(err as Error).message}`]);
  }
  return parseSpec(text, file);
}

export function parseSpec(text: string, file: string): LabSpec {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new SpecError(
      doc.errors.map(
        (e) =>
          `${file}:${e.linePos?.[0]?.line ?? 1}: (document): not valid YAML: ${e.message.split('\n')[0]}`,
      ),
    );
  }
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // yaml throws a ReferenceError for too many alias expansions: a spec error, not a crash.
    throw new SpecError([
      `${file}:1: (document): not usable: ${(err as Error).message}; accepted: at most ${MAX_ALIAS_COUNT} alias expansions`,
    ]);
  }
  const problems = new ProblemList(file, doc, lines);
  const report = (found: ReturnType<typeof shapeProblems>): Set<string | number | undefined> => {
    for (const p of found) problems.add(p.path, p.message, p.atKey);
    // the entry's fields whose value is wrong (an unknown field is no reason to skip a check)
    return new Set(found.filter((p) => !p.atKey).map((p) => p.path[2]));
  };
  report(shapeProblems(DocumentSchema, root, []));
  if (!isRecord(root)) throw new SpecError(problems.sorted());
  const nodes = checkNodes(root.nodes, report, problems);
  const pods = checkPods(root.pods, nodes.cidrs, report, problems);

  // Only a spec valid so far: its nodes and pods are then exactly the entries of the file, in order.
  if (problems.length === 0) {
    for (const clash of derivedNameClashes(
      nodes.specs.map((n) => n.name),
      pods,
    ))
      problems.add([clash.list, clash.index, 'name'], clash.message);
  }
  if (problems.length > 0) throw new SpecError(problems.sorted());
  return { file, nodes: nodes.specs, pods, policies: specPolicies(root.policies, file) };
}

type Report = (found: ReturnType<typeof shapeProblems>) => Set<string | number | undefined>;
type NodeCidrs = Map<string, { cidr: Cidr; index: number }>;

/** Node entries: their shape, then unique names and addresses, pod CIDRs that overlap nothing. */
function checkNodes(
  rawNodes: unknown,
  report: Report,
  problems: ProblemList,
): { specs: NodeSpec[]; cidrs: NodeCidrs } {
  const underlay = parseCidr(UNDERLAY_CIDR) as Cidr;
  const specs: NodeSpec[] = [];
  const cidrs: NodeCidrs = new Map();
  if (!Array.isArray(rawNodes)) return { specs, cidrs };
  const seenNames = new Map<string, number>();
  const seenAddresses = new Map<string, number>();
  rawNodes.forEach((given: unknown, i) => {
    const raw = withoutAbsentNulls(NodeEntrySchema, given);
    const at = (field: string): Path => ['nodes', i, field];
    const bad = report(shapeProblems(NodeEntrySchema, raw, ['nodes', i]));
    if (!isRecord(raw)) return;
    const { name, podCIDR } = raw;
    if (typeof name === 'string' && !bad.has('name')) {
      if (seenNames.has(name))
        problems.add(at('name'), `duplicate node "${name}" (first at nodes[${seenNames.get(name)}])`);
      else seenNames.set(name, i);
    }
    const address = raw.address ?? formatIPv4(underlay.network + 11 + i);
    if (typeof address === 'string' && !bad.has('address')) {
      const value = parseIPv4(address);
      if (
        value === undefined ||
        !cidrContains(underlay, value) ||
        address === CONTROL_PLANE_ADDRESS ||
        value === underlay.network ||
        value === underlay.network + 255
      ) {
        problems.add(at('address'), unusableAddress(address));
      } else if (seenAddresses.has(address)) {
        problems.add(
          at('address'),
          `duplicate address ${address} (first at nodes[${seenAddresses.get(address)}])`,
        );
      } else {
        seenAddresses.set(address, i);
      }
    }
    const cidr = typeof podCIDR === 'string' ? parseCidr(podCIDR) : undefined;
    if (cidr && !bad.has('podCIDR')) {
      if (cidrsOverlap(cidr, underlay)) {
        problems.add(at('podCIDR'), `${cidr.text} overlaps the underlay ${UNDERLAY_CIDR}`);
      } else {
        for (const [other, seen] of cidrs) {
          if (cidrsOverlap(cidr, seen.cidr))
            problems.add(
              at('podCIDR'),
              `${cidr.text} overlaps nodes[${seen.index}].podCIDR ${seen.cidr.text} (node ${other})`,
            );
        }
      }
    }
    if (typeof name === 'string' && cidr) cidrs.set(name, { cidr, index: i });
    if (typeof name === 'string' && typeof podCIDR === 'string' && typeof address === 'string')
      specs.push({ name, address, podCIDR });
  });
  return { specs, cidrs };
}

interface PodEntry {
  name: string;
  namespace: string;
  node?: unknown;
  ip?: unknown;
  labels?: Record<string, string | number | boolean>;
}

/** Pod entries: their shape and workload, then unique names, a known node, a free address in it. */
function checkPods(rawPods: unknown, nodeCidrs: NodeCidrs, report: Report, problems: ProblemList): PodSpec[] {
  const pods: PodSpec[] = [];
  if (!Array.isArray(rawPods)) return pods;
  const seenPods = new Map<string, number>();
  const seenIPs = new Map<string, number>();
  const nextHost = new Map<string, number>();
  const pinned = new Set(rawPods.map((p: unknown) => (isRecord(p) ? p.ip : undefined)));
  rawPods.forEach((given: unknown, i) => {
    const raw = withoutAbsentNulls(PodEntrySchema, given);
    const at = (...fields: (string | number)[]): Path => ['pods', i, ...fields];
    const bad = report(shapeProblems(PodEntrySchema, raw, at()));
    if (!isRecord(raw)) return;
    const entry = withDefaults<PodEntry>(PodEntrySchema, raw);
    const { name, namespace, node } = entry;
    let ok = bad.size === 0;
    if (!bad.has('name') && !bad.has('namespace')) {
      const key = `${namespace}/${name}`;
      const first = seenPods.get(key);
      if (first !== undefined) {
        problems.add(
          at('name'),
          `duplicate pod "${key}" (first at pods[${first}], line ${problems.line(['pods', first])})`,
        );
        ok = false;
      } else {
        seenPods.set(key, i);
      }
    }
    const nodeCidr = typeof node === 'string' ? nodeCidrs.get(node) : undefined;
    if (typeof node !== 'string' || !nodeCidr) {
      const known = [...nodeCidrs.keys()].join(', ') || '(none)';
      problems.add(
        at('node'),
        node === undefined
          ? `required; accepted: one of the nodes: ${known}`
          : `unknown node "${String(node)}"; accepted: ${known}`,
      );
      ok = false;
    }
    let ip: string | undefined;
    if (nodeCidr && typeof node === 'string') {
      const { cidr } = nodeCidr;
      if (entry.ip !== undefined) {
        const value = typeof entry.ip === 'string' ? parseIPv4(entry.ip) : undefined;
        if (
          value === undefined ||
          !cidrContains(cidr, value) ||
          value === cidr.network ||
          value === cidr.network + cidrSize(cidr) - 1
        ) {
          problems.add(
            at('ip'),
            `"${String(entry.ip)}" is not usable; accepted: a host address inside node ${node}'s pod CIDR ${cidr.text}`,
          );
          ok = false;
        } else {
          ip = entry.ip as string;
        }
      } else {
        // Auto-assign from .10 upward, skipping addresses pinned by other pods.
        let host = nextHost.get(node) ?? 10;
        while (pinned.has(formatIPv4(cidr.network + host)) || seenIPs.has(formatIPv4(cidr.network + host)))
          host++;
        if (host >= cidrSize(cidr) - 1) {
          problems.add(at('node'), `node ${node}'s pod CIDR ${cidr.text} has no free address left`);
          ok = false;
        } else {
          ip = formatIPv4(cidr.network + host);
          nextHost.set(node, host + 1);
        }
      }
      if (ip !== undefined) {
        if (seenIPs.has(ip)) {
          problems.add(at('ip'), `duplicate pod address ${ip} (first at pods[${seenIPs.get(ip)}])`);
          ok = false;
        } else {
          seenIPs.set(ip, i);
        }
      }
    }
    const workload = checkWorkload(raw.workload, at('workload'), report);
    if (ok && workload && ip && typeof node === 'string') {
      const labels = Object.fromEntries(Object.entries(entry.labels ?? {}).map(([k, v]) => [k, String(v)]));
      pods.push({ name, namespace, node, ip, labels, workload });
    }
  });
  return pods;
}

/** A pod's workload: none when absent; else its kind picks the schema of its fields. */
function checkWorkload(raw: unknown, at: Path, report: Report): Workload | undefined {
  if (raw === undefined) return { kind: 'none' };
  if (report(shapeProblems(WorkloadKindSchema, raw, at)).size > 0) return undefined;
  const schema = workloadSchema((raw as { kind: WorkloadKind }).kind);
  const fields = withoutAbsentNulls(schema, raw);
  const found = shapeProblems(schema, fields, at);
  report(found);
  return found.length > 0 ? undefined : withDefaults<Workload>(schema, fields);
}

/** The spec's policy files (relative to the spec), every policy problem named with its own file:line. */
function specPolicies(paths: unknown, file: string): LabPolicy[] {
  if (!Array.isArray(paths) || paths.length === 0) return [];
  try {
    return loadPolicyFiles(paths.map((p) => resolve(dirname(file), String(p)))).map((p) => ({
      kind: p.kind,
      name: p.name,
      namespace: p.namespace,
      text: p.text,
      file: p.file,
    }));
  } catch (err) {
    if (err instanceof PolicyError) throw new SpecError(err.problems.map(formatProblem));
    throw err;
  }
}
