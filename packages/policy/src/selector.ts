/**
 * Label selectors against identity labels. Identity labels carry their source, as Cilium's do:
 * `k8s:app=db`, `k8s:io.kubernetes.pod.namespace=data`, `reserved:host=`.
 */
import { NAMESPACE_LABEL } from './parse.js';
import type { Requirement, Selector } from './types.js';

export type IdentityLabels = Readonly<Record<string, string>>;

/** The labels of a pod's identity: its labels from source k8s plus its namespace. */
export function podIdentityLabels(namespace: string, labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) out[k.includes(':') ? k : `k8s:${k}`] = v;
  out[`k8s:${NAMESPACE_LABEL}`] = namespace;
  return out;
}

/** name -> [source, value] of an identity's labels, built once per label object. */
const indexes = new WeakMap<IdentityLabels, Map<string, [string | undefined, string][]>>();

function indexOf(labels: IdentityLabels): Map<string, [string | undefined, string][]> {
  let index = indexes.get(labels);
  if (index) return index;
  index = new Map();
  for (const [key, value] of Object.entries(labels)) {
    const colon = key.indexOf(':');
    const source = colon < 0 ? undefined : key.slice(0, colon);
    const name = colon < 0 ? key : key.slice(colon + 1);
    const list = index.get(name);
    if (list) list.push([source, value]);
    else index.set(name, [[source, value]]);
  }
  indexes.set(labels, index);
  return index;
}

function valuesOf(labels: IdentityLabels, q: Requirement): string[] {
  const out: string[] = [];
  for (const [source, value] of indexOf(labels).get(q.key.name) ?? [])
    if (q.key.source === undefined || q.key.source === source) out.push(value);
  return out;
}

function satisfies(labels: IdentityLabels, q: Requirement): boolean {
  const values = valuesOf(labels, q);
  switch (q.operator) {
    case 'In':
      return values.some((v) => q.values.includes(v));
    case 'NotIn':
      return !values.some((v) => q.values.includes(v));
    case 'Exists':
      return values.length > 0;
    case 'DoesNotExist':
      return values.length === 0;
  }
}

/** Kubernetes semantics: every requirement holds (an empty selector selects everything). */
export function selects(selector: Selector, labels: IdentityLabels): boolean {
  return selector.requirements.every((q) => satisfies(labels, q));
}
