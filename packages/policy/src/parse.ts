/**
 * CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy YAML -> Policy, strictly: every field is
 * either implemented, or refused with file:line and the field's path. A document with any
 * problem is refused whole, and so is the file (never half-applied).
 */
import { LineCounter, parseAllDocuments, type Node } from 'yaml';
import { IGNORED_METADATA, Reader, type Located } from './reader.js';
import { PolicyError, PolicyErrorCode, type PolicyProblem } from './errors.js';
import {
  ENTITIES,
  POLICY_KINDS,
  type Entity,
  type LabelKey,
  type PeerRule,
  type Policy,
  type PolicyKind,
  type PolicyRule,
  type PortProtocol,
  type ProtocolName,
  type Requirement,
  type Selector,
  type SelectorOperator,
} from './types.js';

export const NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
export const REQUIRE_ENCRYPTION_ANNOTATION = 'wirescope.io/require-encryption';
const API_VERSION = 'cilium.io/v2';

export function parseLabelKey(text: string): LabelKey {
  const colon = text.indexOf(':');
  if (colon < 0) return { source: undefined, name: text };
  const source = text.slice(0, colon);
  return { source: source === 'any' ? undefined : source, name: text.slice(colon + 1) };
}

const OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

function readSelector(r: Reader, at: Located): Selector | undefined {
  const f = r.fields(at, ['matchLabels', 'matchExpressions'], 'selector');
  if (!f) return undefined;
  const requirements: Requirement[] = [];
  for (const [key, value] of Object.entries(r.stringMap(f.get('matchLabels'))))
    requirements.push({ key: parseLabelKey(key), operator: 'In', values: [value] });
  for (const e of r.list(f.get('matchExpressions')) ?? []) {
    const ef = r.fields(e, ['key', 'operator', 'values'], 'expression');
    if (!ef) continue;
    const key = r.string(ef.get('key') ?? { node: e.node, field: `${e.field}.key` }, { required: true });
    const operator = r.string(ef.get('operator') ?? { node: e.node, field: `${e.field}.operator` }, {
      required: true,
    });
    if (operator !== undefined && !OPERATORS.includes(operator as SelectorOperator))
      r.problem(
        PolicyErrorCode.INVALID_VALUE,
        ef.get('operator')!,
        `"${operator}" is no operator; accepted: ${OPERATORS.join(', ')}`,
      );
    const values = (r.list(ef.get('values')) ?? []).map((v) => r.string(v) ?? '');
    const needsValues = operator === 'In' || operator === 'NotIn';
    if (needsValues && values.length === 0)
      r.problem(PolicyErrorCode.INVALID_VALUE, ef.get('values') ?? e, `operator ${operator} needs values`);
    if (!needsValues && values.length > 0)
      r.problem(PolicyErrorCode.INVALID_VALUE, ef.get('values')!, `operator ${operator} takes no values`);
    if (key !== undefined && operator !== undefined)
      requirements.push({ key: parseLabelKey(key), operator: operator as SelectorOperator, values });
  }
  return { requirements };
}

const namesKey = (s: Selector, name: string) => s.requirements.some((q) => q.key.name === name);
const isReserved = (s: Selector) => s.requirements.some((q) => q.key.source === 'reserved');

/**
 * Cilium's namespace scoping (ParseToCiliumRule): a CNP's selectors that name no namespace get
 * the policy's; a CCNP's peer selectors get "any namespace" (pods only). Reserved-label
 * selectors are left alone.
 */
function scoped(s: Selector, kind: PolicyKind, namespace: string): Selector {
  if (isReserved(s) || namesKey(s, NAMESPACE_LABEL)) return s;
  const key = { source: 'k8s', name: NAMESPACE_LABEL };
  const extra: Requirement =
    kind === 'CiliumNetworkPolicy'
      ? { key, operator: 'In', values: [namespace] }
      : { key, operator: 'Exists', values: [] };
  return { requirements: [...s.requirements, extra] };
}

function readPorts(r: Reader, at: Located | undefined): PortProtocol[] | undefined {
  const list = r.list(at);
  if (!list) return undefined;
  const out: PortProtocol[] = [];
  for (const item of list) {
    const f = r.fields(item, ['ports'], 'toPorts');
    if (!f) continue;
    const ports = r.list(f.get('ports'));
    if (!ports) {
      out.push({ port: 0, endPort: 0, protocol: 'ANY' });
      continue;
    }
    if (ports.length > 40) r.problem(PolicyErrorCode.INVALID_VALUE, f.get('ports')!, 'at most 40 ports');
    for (const p of ports) {
      const pf = r.fields(p, ['port', 'endPort', 'protocol'], 'port');
      if (!pf) continue;
      const portText = r.string(pf.get('port')) ?? '0';
      let port = 0;
      if (!/^\d+$/.test(portText))
        r.problem(
          PolicyErrorCode.NOT_IMPLEMENTED,
          pf.get('port')!,
          `named port "${portText}" is not implemented by Wirescope; use a number 0..65535`,
        );
      else if ((port = Number(portText)) > 65535)
        r.problem(PolicyErrorCode.INVALID_VALUE, pf.get('port')!, `port ${port} is out of range 0..65535`);
      const endText = r.string(pf.get('endPort')) ?? '0';
      const endPort = /^\d+$/.test(endText) ? Number(endText) : NaN;
      if (!Number.isInteger(endPort) || endPort > 65535 || (endPort !== 0 && endPort < port))
        r.problem(
          PolicyErrorCode.INVALID_VALUE,
          pf.get('endPort')!,
          `endPort ${endText} must be a number from port (${port}) to 65535`,
        );
      const protocol = (r.string(pf.get('protocol')) ?? 'ANY').toUpperCase();
      if (protocol === 'VRRP' || protocol === 'IGMP')
        r.problem(
          PolicyErrorCode.NOT_IMPLEMENTED,
          pf.get('protocol')!,
          `protocol ${protocol} is not implemented by Wirescope`,
        );
      else if (!['TCP', 'UDP', 'SCTP', 'ANY'].includes(protocol))
        r.problem(
          PolicyErrorCode.INVALID_VALUE,
          pf.get('protocol')!,
          `"${protocol}" is no protocol; accepted: TCP, UDP, SCTP, ANY`,
        );
      out.push({ port, endPort: endPort || 0, protocol: protocol as ProtocolName });
    }
  }
  return out;
}

function readPeerRules(
  r: Reader,
  at: Located | undefined,
  direction: 'ingress' | 'egress',
  kind: PolicyKind,
  namespace: string,
): PeerRule[] | undefined {
  const list = r.list(at);
  if (!list) return undefined;
  const peerField = direction === 'ingress' ? 'fromEndpoints' : 'toEndpoints';
  const entityField = direction === 'ingress' ? 'fromEntities' : 'toEntities';
  return list.map((item) => {
    const f = r.fields(item, [peerField, entityField, 'toPorts'], direction) ?? new Map<string, Located>();
    const selectors = r.list(f.get(peerField));
    const endpoints = selectors
      ?.map((s) => readSelector(r, s))
      .filter((s): s is Selector => s !== undefined)
      .map((s) => scoped(s, kind, namespace));
    const entityItems = r.list(f.get(entityField));
    const entities = entityItems?.map((e) => {
      const name = r.string(e) ?? '';
      if (!(ENTITIES as readonly string[]).includes(name))
        r.problem(
          PolicyErrorCode.NOT_IMPLEMENTED,
          e,
          `entity "${name}" is not implemented by Wirescope; accepted: ${ENTITIES.join(', ')}`,
        );
      return name as Entity;
    });
    if (endpoints && entities)
      r.problem(PolicyErrorCode.INVALID_VALUE, item, `${peerField} and ${entityField} exclude each other`);
    return { endpoints, entities, ports: readPorts(r, f.get('toPorts')) };
  });
}

function readRule(r: Reader, at: Located, kind: PolicyKind, namespace: string): PolicyRule | undefined {
  const f = r.fields(
    at,
    [
      'endpointSelector',
      'ingress',
      'ingressDeny',
      'egress',
      'egressDeny',
      'enableDefaultDeny',
      'description',
      'labels',
      'log',
    ],
    'rule',
  );
  if (!f) return undefined;
  const selectorAt = f.get('endpointSelector');
  if (!selectorAt) {
    r.problem(
      PolicyErrorCode.INVALID_VALUE,
      { node: at.node, field: `${at.field}.endpointSelector` },
      'is required',
    );
    return undefined;
  }
  const selector = readSelector(r, selectorAt);
  const ingress = readPeerRules(r, f.get('ingress'), 'ingress', kind, namespace);
  const ingressDeny = readPeerRules(r, f.get('ingressDeny'), 'ingress', kind, namespace);
  const egress = readPeerRules(r, f.get('egress'), 'egress', kind, namespace);
  const egressDeny = readPeerRules(r, f.get('egressDeny'), 'egress', kind, namespace);
  if (!ingress && !ingressDeny && !egress && !egressDeny)
    r.problem(
      PolicyErrorCode.INVALID_VALUE,
      at,
      'rule must have at least one of Ingress, IngressDeny, Egress, EgressDeny',
    );
  const dd = r.fields(
    f.get('enableDefaultDeny') ?? { node: undefined, field: '' },
    ['ingress', 'egress'],
    'defaultDeny',
  );
  const logFields = r.fields(f.get('log') ?? { node: undefined, field: '' }, ['value'], 'log');
  const log = r.string(logFields?.get('value')) ?? '';
  if (log.length > 32 || /[^\x20-\x7e]/.test(log))
    r.problem(PolicyErrorCode.INVALID_VALUE, logFields!.get('value')!, 'at most 32 printable characters');
  r.stringMap(f.get('labels'));
  if (!selector) return undefined;
  return {
    endpointSelector: kind === 'CiliumNetworkPolicy' ? scopedEndpoint(selector, namespace) : selector,
    ingress,
    ingressDeny,
    egress,
    egressDeny,
    enableDefaultDeny: {
      ingress: r.boolean(dd?.get('ingress')) ?? (ingress !== undefined || ingressDeny !== undefined),
      egress: r.boolean(dd?.get('egress')) ?? (egress !== undefined || egressDeny !== undefined),
    },
    description: r.string(f.get('description')) ?? '',
    log,
  };
}

/** A CNP selects endpoints of its own namespace only: another namespace named by the user is replaced. */
function scopedEndpoint(s: Selector, namespace: string): Selector {
  const rest = s.requirements.filter((q) => q.key.name !== NAMESPACE_LABEL);
  return {
    requirements: [
      ...rest,
      { key: { source: 'k8s', name: NAMESPACE_LABEL }, operator: 'In', values: [namespace] },
    ],
  };
}

const NAME_RE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * Parses every document of a YAML file. Throws PolicyError with every problem found (file:line,
 * field); returns nothing half-read.
 */
export function parsePolicies(text: string, file: string): Policy[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true });
  const problems: PolicyProblem[] = [];
  const policies: Policy[] = [];
  if (!Array.isArray(docs))
    throw new PolicyError([
      { code: PolicyErrorCode.INVALID_DOCUMENT, file, line: 1, field: '', message: 'not YAML' },
    ]);
  for (const doc of docs) {
    const start = doc.range[0];
    for (const e of doc.errors)
      problems.push({
        code: PolicyErrorCode.INVALID_DOCUMENT,
        file,
        line: lines.linePos(e.pos[0]).line,
        field: '',
        message: e.message.split('\n')[0] ?? 'invalid YAML',
      });
    if (doc.errors.length > 0) continue;
    if (doc.contents === null) continue; // an empty document between separators
    const r = new Reader(file, lines, start);
    const policy = readDocument(r, doc.contents as Node, text);
    problems.push(...r.problems);
    if (policy && r.problems.length === 0) policies.push({ ...policy, file });
  }
  if (problems.length > 0) throw new PolicyError(problems);
  return policies;
}

function readDocument(r: Reader, root: Node, text: string): Policy | undefined {
  const top = r.fields(
    { node: root, field: '' },
    ['apiVersion', 'kind', 'metadata', 'spec', 'specs'],
    'document',
  );
  if (!top) return undefined;
  const apiVersion = r.string(top.get('apiVersion') ?? { node: root, field: 'apiVersion' }, {
    required: true,
  });
  if (apiVersion !== undefined && apiVersion !== API_VERSION)
    r.problem(
      PolicyErrorCode.INVALID_VALUE,
      top.get('apiVersion')!,
      `"${apiVersion}"; accepted: ${API_VERSION}`,
    );
  const kindText = r.string(top.get('kind') ?? { node: root, field: 'kind' }, { required: true });
  if (kindText !== undefined && !(POLICY_KINDS as readonly string[]).includes(kindText))
    r.problem(
      PolicyErrorCode.NOT_IMPLEMENTED,
      top.get('kind')!,
      `kind "${kindText}"; accepted: ${POLICY_KINDS.join(', ')}`,
    );
  const kind = (kindText ?? 'CiliumNetworkPolicy') as PolicyKind;
  const meta = r.fields(
    top.get('metadata') ?? { node: root, field: 'metadata' },
    ['name', 'namespace', 'labels', 'annotations', ...IGNORED_METADATA],
    'metadata',
  );
  const name =
    r.string(meta?.get('name') ?? { node: root, field: 'metadata.name' }, { required: true }) ?? '';
  if (name && !NAME_RE.test(name))
    r.problem(PolicyErrorCode.INVALID_VALUE, meta!.get('name')!, `"${name}" is not a DNS subdomain name`);
  let namespace = r.string(meta?.get('namespace')) ?? '';
  if (kind === 'CiliumNetworkPolicy' && namespace === '') namespace = 'default'; // kubectl's default
  if (kind === 'CiliumClusterwideNetworkPolicy' && namespace !== '')
    r.problem(
      PolicyErrorCode.INVALID_VALUE,
      meta!.get('namespace')!,
      'a clusterwide policy has no namespace',
    );
  const annotations = r.stringMap(meta?.get('annotations'));
  const encryption = annotations[REQUIRE_ENCRYPTION_ANNOTATION];
  if (encryption !== undefined && encryption !== 'true' && encryption !== 'false')
    r.problem(
      PolicyErrorCode.INVALID_VALUE,
      meta!.get('annotations')!,
      `${REQUIRE_ENCRYPTION_ANNOTATION}: "${encryption}"; accepted: "true", "false"`,
    );
  const rules: PolicyRule[] = [];
  const spec = top.get('spec');
  const specs = r.list(top.get('specs'));
  if (!spec && !specs)
    r.problem(PolicyErrorCode.INVALID_VALUE, { node: root, field: 'spec' }, 'spec or specs is required');
  for (const at of [...(spec ? [spec] : []), ...(specs ?? [])]) {
    const rule = readRule(r, at, kind, namespace);
    if (rule) rules.push(rule);
  }
  const [from, , to] = root.range ?? [0, 0, text.length];
  return {
    kind,
    name,
    namespace,
    labels: r.stringMap(meta?.get('labels')),
    rules,
    requireEncryption: encryption === 'true',
    file: '',
    line: r.line(root),
    text: documentText(text, from, to),
  };
}

/** The document's own lines (from its first line to its end), so `policy get` shows what was applied. */
function documentText(text: string, from: number, to: number): string {
  const lineStart = text.lastIndexOf('\n', from - 1) + 1;
  return `${text.slice(lineStart, to).trimEnd()}\n`;
}
