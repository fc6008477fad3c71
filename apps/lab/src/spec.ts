import { readFileSync } from 'node:fs';
import {
  LineCounter,
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  type Document,
  type Node as YamlNode,
} from 'yaml';
import {
  cidrContains,
  cidrsOverlap,
  cidrSize,
  formatIPv4,
  parseCidr,
  parseIPv4,
  type Cidr,
  isDnsSubdomain,
} from '@wirescope/agent';
import { derivedNameClashes } from './names.js';

/** The lab's underlay: node addresses and the control plane live here, inside lab namespaces only. */
export const UNDERLAY_CIDR = '10.77.0.0/24';
export const CONTROL_PLANE_ADDRESS = '10.77.0.254';

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

export interface LabSpec {
  file: string;
  nodes: NodeSpec[];
  pods: PodSpec[];
}

/** Every problem in a spec, each "file:line: field: what is wrong; accepted: …". */
export class SpecError extends Error {
  override name = 'SpecError';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

const NODE_FIELDS = ['name', 'address', 'podCIDR'];
const POD_FIELDS = ['name', 'namespace', 'node', 'ip', 'labels', 'workload'];
const WORKLOAD_FIELDS: Record<Workload['kind'], string[]> = {
  none: ['kind'],
  'http-server': ['kind', 'port', 'upstreams'],
  'http-client': ['kind', 'target', 'intervalMs'],
  'dns-server': ['kind', 'port'],
  'udp-sender': ['kind', 'target', 'port', 'intervalMs'],
};
/** Expansions of YAML aliases a spec may make; more is a "billion laughs" document, not a lab. */
const MAX_ALIAS_COUNT = 100;
const DNS_NAME = /^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$/;
const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,62})$/;
const LABEL_VALUE = /^[A-Za-z0-9._-]{0,63}$/;

type Path = (string | number)[];

class Checker {
  readonly problems: string[] = [];
  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Line of the value at path, or of its key when `atKey` (unknown fields point at the key). */
  line(path: Path, atKey = false): number {
    for (let depth = path.length; depth > 0; depth--) {
      const parentPath = path.slice(0, depth - 1);
      const last = path[depth - 1];
      const parent =
        parentPath.length === 0
          ? this.doc.contents
          : (this.doc.getIn(parentPath, true) as YamlNode | undefined);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
        const target = atKey || !pair?.value ? pair?.key : pair.value;
        const range = (target as YamlNode | undefined)?.range;
        if (range) return this.lines.linePos(range[0]).line;
      } else if (isSeq(parent) && typeof last === 'number') {
        const range = (parent.items[last] as YamlNode | undefined)?.range;
        if (range) return this.lines.linePos(range[0]).line;
      }
      atKey = false;
    }
    return 1;
  }

  add(path: Path, message: string, atKey = false): void {
    this.problems.push(`${this.file}:${this.line(path, atKey)}: ${fieldName(path)}: ${message}`);
  }
}

function fieldName(path: Path): string {
  return (
    path.reduce<string>(
      (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part),
      '',
    ) || '(document)'
  );
}

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
  const c = new Checker(file, doc, lines);
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // yaml throws a ReferenceError for too many alias expansions: a spec error, not a crash.
    throw new SpecError([
      `${file}:1: (document): not usable: ${(err as Error).message}; accepted: at most ${MAX_ALIAS_COUNT} alias expansions`,
    ]);
  }
  if (!isRecord(root))
    throw new SpecError([`${file}:1: (document): expected a mapping with "nodes" and "pods"`]);
  for (const key of Object.keys(root)) {
    if (key !== 'nodes' && key !== 'pods') c.add([key], 'unknown field; accepted: nodes, pods', true);
  }

  const underlay = parseCidr(UNDERLAY_CIDR) as Cidr;
  const nodes: NodeSpec[] = [];
  const nodeCidrs = new Map<string, { cidr: Cidr; index: number }>();
  const rawNodes = root.nodes;
  if (!Array.isArray(rawNodes) || rawNodes.length === 0) {
    c.add(['nodes'], 'required: a list of at least one node');
  } else {
    const seenNames = new Map<string, number>();
    const seenAddresses = new Map<string, number>();
    rawNodes.forEach((raw: unknown, i) => {
      const at = (field?: string): Path => (field ? ['nodes', i, field] : ['nodes', i]);
      if (!isRecord(raw)) return c.add(at(), 'expected a mapping with name, podCIDR and optional address');
      for (const key of Object.keys(raw)) {
        if (!NODE_FIELDS.includes(key))
          c.add(at(key), `unknown field; accepted: ${NODE_FIELDS.join(', ')}`, true);
      }
      const name = raw.name;
      if (typeof name !== 'string' || !isDnsSubdomain(name)) {
        c.add(
          at('name'),
          `"${String(name ?? '')}" is not a valid node name; accepted: a DNS-1123 subdomain like a Kubernetes node name ` +
            '(lower-case letters, digits, "-" and ".", each dot-separated part starting and ending with a letter or digit, up to 253)',
        );
      } else if (seenNames.has(name)) {
        c.add(at('name'), `duplicate node "${name}" (first at nodes[${seenNames.get(name)}])`);
      } else {
        seenNames.set(name, i);
      }
      const address = raw.address ?? formatIPv4(underlay.network + 11 + i);
      const addressValue = typeof address === 'string' ? parseIPv4(address) : undefined;
      if (
        addressValue === undefined ||
        !cidrContains(underlay, addressValue) ||
        address === CONTROL_PLANE_ADDRESS ||
        addressValue === underlay.network ||
        addressValue === underlay.network + 255
      ) {
        c.add(
          at('address'),
          `"${String(address)}" is not usable; accepted: a host address in ${UNDERLAY_CIDR} other than ${CONTROL_PLANE_ADDRESS}`,
        );
      } else if (seenAddresses.has(address as string)) {
        c.add(
          at('address'),
          `duplicate address ${String(address)} (first at nodes[${seenAddresses.get(address as string)}])`,
        );
      } else {
        seenAddresses.set(address as string, i);
      }
      const podCIDR = raw.podCIDR;
      const cidr = typeof podCIDR === 'string' ? parseCidr(podCIDR) : undefined;
      if (!cidr || cidr.prefixLength < 16 || cidr.prefixLength > 28) {
        c.add(
          at('podCIDR'),
          `"${String(podCIDR ?? '')}" is not valid; accepted: an IPv4 network /16../28 with no host bits, such as 10.244.1.0/24`,
        );
      } else if (cidrsOverlap(cidr, underlay)) {
        c.add(at('podCIDR'), `${cidr.text} overlaps the underlay ${UNDERLAY_CIDR}`);
      } else {
        for (const [other, seen] of nodeCidrs) {
          if (cidrsOverlap(cidr, seen.cidr)) {
            c.add(
              at('podCIDR'),
              `${cidr.text} overlaps nodes[${seen.index}].podCIDR ${seen.cidr.text} (node ${other})`,
            );
          }
        }
      }
      if (typeof name === 'string' && cidr) nodeCidrs.set(name, { cidr, index: i });
      if (typeof name === 'string' && typeof podCIDR === 'string' && typeof address === 'string') {
        nodes.push({ name, address, podCIDR });
      }
    });
  }

  const pods: PodSpec[] = [];
  const rawPods = root.pods;
  if (rawPods !== undefined && !Array.isArray(rawPods)) {
    c.add(['pods'], 'expected a list of pods');
  } else if (Array.isArray(rawPods)) {
    const seenPods = new Map<string, number>();
    const seenIPs = new Map<string, number>();
    const nextHost = new Map<string, number>();
    rawPods.forEach((raw: unknown, i) => {
      const at = (...fields: (string | number)[]): Path => ['pods', i, ...fields];
      if (!isRecord(raw))
        return c.add(at(), 'expected a mapping with name, namespace, node, labels, workload');
      for (const key of Object.keys(raw)) {
        if (!POD_FIELDS.includes(key))
          c.add(at(key), `unknown field; accepted: ${POD_FIELDS.join(', ')}`, true);
      }
      const { name, node } = raw;
      const namespace = raw.namespace ?? 'default';
      let ok = true;
      if (typeof name !== 'string' || !DNS_NAME.test(name)) {
        c.add(
          at('name'),
          `"${String(name ?? '')}" is not a valid pod name; accepted: lower-case letters, digits and "-", up to 32`,
        );
        ok = false;
      }
      if (typeof namespace !== 'string' || !DNS_NAME.test(namespace)) {
        c.add(
          at('namespace'),
          `"${String(namespace)}" is not a valid namespace; accepted: lower-case letters, digits and "-", up to 32`,
        );
        ok = false;
      }
      if (ok) {
        const key = `${String(namespace)}/${String(name)}`;
        if (seenPods.has(key)) {
          c.add(
            at('name'),
            `duplicate pod "${key}" (first at pods[${seenPods.get(key)}], line ${c.line(['pods', seenPods.get(key) ?? 0])})`,
          );
          ok = false;
        } else {
          seenPods.set(key, i);
        }
      }
      const nodeCidr = typeof node === 'string' ? nodeCidrs.get(node) : undefined;
      if (typeof node !== 'string' || !nodeCidr) {
        const known = [...nodeCidrs.keys()].join(', ') || '(none)';
        c.add(
          at('node'),
          node === undefined
            ? `required; accepted: one of the nodes: ${known}`
            : `unknown node "${String(node)}"; accepted: ${known}`,
        );
        ok = false;
      }
      let ip: string | undefined;
      if (nodeCidr && typeof node === 'string') {
        if (raw.ip !== undefined) {
          const value = typeof raw.ip === 'string' ? parseIPv4(raw.ip) : undefined;
          const { cidr } = nodeCidr;
          if (
            value === undefined ||
            !cidrContains(cidr, value) ||
            value === cidr.network ||
            value === cidr.network + cidrSize(cidr) - 1
          ) {
            c.add(
              at('ip'),
              `"${String(raw.ip)}" is not usable; accepted: a host address inside node ${node}'s pod CIDR ${cidr.text}`,
            );
            ok = false;
          } else {
            ip = raw.ip as string;
          }
        } else {
          // Auto-assign from .10 upward, skipping addresses pinned by other pods.
          let host = nextHost.get(node) ?? 10;
          const pinned = new Set(rawPods.map((p: unknown) => (isRecord(p) ? p.ip : undefined)));
          while (
            pinned.has(formatIPv4(nodeCidr.cidr.network + host)) ||
            seenIPs.has(formatIPv4(nodeCidr.cidr.network + host))
          )
            host++;
          if (host >= cidrSize(nodeCidr.cidr) - 1) {
            c.add(at('node'), `node ${node}'s pod CIDR ${nodeCidr.cidr.text} has no free address left`);
            ok = false;
          } else {
            ip = formatIPv4(nodeCidr.cidr.network + host);
            nextHost.set(node, host + 1);
          }
        }
        if (ip !== undefined) {
          if (seenIPs.has(ip)) {
            c.add(at('ip'), `duplicate pod address ${ip} (first at pods[${seenIPs.get(ip)}])`);
            ok = false;
          } else {
            seenIPs.set(ip, i);
          }
        }
      }
      const labels: Record<string, string> = {};
      if (raw.labels !== undefined) {
        if (!isRecord(raw.labels)) {
          c.add(at('labels'), 'expected a mapping of label key to string value');
          ok = false;
        } else {
          for (const [key, value] of Object.entries(raw.labels)) {
            const text = typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
            if (!LABEL_KEY.test(key) || typeof text !== 'string' || !LABEL_VALUE.test(text)) {
              c.add(
                at('labels', key),
                `label ${key}=${String(value)} is not valid; accepted: keys and values of letters, digits, ".", "_", "-" (keys also "/")`,
              );
              ok = false;
            } else {
              labels[key] = text;
            }
          }
        }
      }
      const workload = checkWorkload(c, raw.workload, at('workload'));
      if (!workload) ok = false;
      if (ok && workload && ip) {
        pods.push({
          name: name as string,
          namespace: namespace as string,
          node: node as string,
          ip,
          labels,
          workload,
        });
      }
    });
  }

  // Only a spec valid so far: its nodes and pods are then exactly the entries of the file, in order.
  if (c.problems.length === 0) {
    for (const clash of derivedNameClashes(
      nodes.map((n) => n.name),
      pods,
    ))
      c.add([clash.list, clash.index, 'name'], clash.message);
  }
  if (c.problems.length > 0) throw new SpecError(c.problems);
  return { file, nodes, pods };
}

function checkWorkload(c: Checker, raw: unknown, at: Path): Workload | undefined {
  if (raw === undefined) return { kind: 'none' };
  const kinds = Object.keys(WORKLOAD_FIELDS).join(', ');
  if (!isRecord(raw)) {
    c.add(at, `expected a mapping with a kind; accepted kinds: ${kinds}`);
    return undefined;
  }
  const kind = raw.kind as Workload['kind'];
  const fields = WORKLOAD_FIELDS[kind];
  if (!fields) {
    c.add([...at, 'kind'], `"${String(raw.kind ?? '')}" is not a workload kind; accepted: ${kinds}`);
    return undefined;
  }
  let ok = true;
  for (const key of Object.keys(raw)) {
    if (!fields.includes(key)) {
      c.add([...at, key], `unknown field for kind ${kind}; accepted: ${fields.join(', ')}`, true);
      ok = false;
    }
  }
  const int = (field: string, fallback: number | undefined, min: number, max: number): number => {
    const value = raw[field] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      c.add(
        [...at, field],
        `${value === undefined ? 'required' : `"${String(value)}" is not valid`}; accepted: an integer from ${min} to ${max}`,
      );
      ok = false;
      return 0;
    }
    return value;
  };
  const str = (field: string, accepted: string, valid: (s: string) => boolean): string => {
    const value = raw[field];
    if (typeof value !== 'string' || !valid(value)) {
      c.add(
        [...at, field],
        `${value === undefined ? 'required' : `"${String(value)}" is not valid`}; accepted: ${accepted}`,
      );
      ok = false;
      return '';
    }
    return value;
  };
  const isUrl = (s: string): boolean => {
    try {
      return new URL(s).protocol === 'http:';
    } catch {
      return false;
    }
  };
  let workload: Workload;
  switch (kind) {
    case 'none':
      workload = { kind };
      break;
    case 'http-server': {
      const upstreams = raw.upstreams ?? [];
      if (!Array.isArray(upstreams) || !upstreams.every((u) => typeof u === 'string' && isUrl(u))) {
        c.add([...at, 'upstreams'], 'expected a list of http:// URLs (host = pod.namespace or an IP)');
        ok = false;
      }
      workload = { kind, port: int('port', 8080, 1, 65535), upstreams: upstreams as string[] };
      break;
    }
    case 'http-client':
      workload = {
        kind,
        target: str('target', 'an http:// URL (host = pod.namespace or an IP)', isUrl),
        intervalMs: int('intervalMs', 1000, 100, 600_000),
      };
      break;
    case 'dns-server':
      workload = { kind, port: int('port', 53, 1, 65535) };
      break;
    case 'udp-sender':
      workload = {
        kind,
        target: str('target', 'a host (pod.namespace) or an IPv4 address', (s) => /^[a-z0-9.-]+$/.test(s)),
        port: int('port', undefined, 1, 65535),
        intervalMs: int('intervalMs', 1000, 100, 600_000),
      };
      break;
  }
  return ok ? workload : undefined;
}
