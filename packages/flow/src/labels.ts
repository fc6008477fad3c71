// Kubernetes label selector syntax over Cilium's "source:key=value" label strings.
export type Requirement =
  { key: string; op: 'in' | 'notin'; values: string[] } | { key: string; op: 'exists' | '!exists' };

/** Parses "k8s:app=web,tier in (a,b),!canary" into ANDed requirements; throws on bad syntax. */
export function parseSelector(selector: string): Requirement[] {
  const s = selector.trim();
  if (s === '') throw new Error('empty label selector');
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0) throw new Error(`unbalanced ")" in label selector "${selector}"`);
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (depth !== 0) throw new Error(`unbalanced "(" in label selector "${selector}"`);
  parts.push(cur);
  return parts.map((raw) => parseRequirement(raw.trim(), selector));
}

const keyPattern = /^[A-Za-z0-9]([A-Za-z0-9_.\-/:]*[A-Za-z0-9])?$/;

function checkKey(key: string, selector: string): string {
  if (!keyPattern.test(key)) throw new Error(`invalid label key "${key}" in selector "${selector}"`);
  return key;
}

function parseRequirement(part: string, selector: string): Requirement {
  if (part === '') throw new Error(`empty requirement in label selector "${selector}"`);
  const setMatch = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part);
  if (setMatch) {
    const values = setMatch[3]!.split(',').map((v) => v.trim());
    if (values.some((v) => v === '')) throw new Error(`empty value in "${part}" of selector "${selector}"`);
    return { key: checkKey(setMatch[1]!, selector), op: setMatch[2] as 'in' | 'notin', values };
  }
  if (part.startsWith('!')) return { key: checkKey(part.slice(1).trim(), selector), op: '!exists' };
  const eq = /^([^=!\s]+)\s*(==|!=|=)\s*(.*)$/.exec(part);
  if (eq) {
    const value = eq[3]!.trim();
    return { key: checkKey(eq[1]!, selector), op: eq[2] === '!=' ? 'notin' : 'in', values: [value] };
  }
  if (/\s/.test(part)) throw new Error(`cannot parse "${part}" in label selector "${selector}"`);
  return { key: checkKey(part, selector), op: 'exists' };
}

export interface ParsedLabel {
  source: string;
  key: string;
  value: string;
}

export function parseLabel(label: string): ParsedLabel {
  // "k8s:app=web" -> source k8s; "app=web" -> source "any"; "reserved:host" -> key host, no value.
  const eq = label.indexOf('=');
  const head = eq === -1 ? label : label.slice(0, eq);
  const value = eq === -1 ? '' : label.slice(eq + 1);
  const colon = head.indexOf(':');
  if (colon === -1) return { source: 'any', key: head, value };
  return { source: head.slice(0, colon), key: head.slice(colon + 1), value };
}

/** A requirement with its key split as labels are ("k8s:app" -> source k8s, key app). */
interface SplitRequirement {
  source: string;
  key: string;
  op: Requirement['op'];
  values: string[];
}

function splitRequirement(r: Requirement): SplitRequirement {
  const colon = r.key.indexOf(':');
  const values = 'values' in r ? r.values : [];
  if (colon === -1) return { source: 'any', key: r.key, op: r.op, values };
  return { source: r.key.slice(0, colon), key: r.key.slice(colon + 1), op: r.op, values };
}

function holds(r: SplitRequirement, labels: readonly ParsedLabel[]): boolean {
  for (const l of labels) {
    if (l.key !== r.key) continue;
    if (r.source !== 'any' && l.source !== 'any' && l.source !== r.source) continue;
    // the first label of the key decides existence; a value in or out of the set decides the rest
    if (r.op === 'exists') return true;
    if (r.op === '!exists') return false;
    if (r.values.includes(l.value)) return r.op === 'in';
  }
  return r.op === '!exists' || r.op === 'notin';
}

/** A selector's test on parsed labels, keys split once (filters run it on every flow). */
export function compileSelector(requirements: Requirement[]): (labels: readonly ParsedLabel[]) => boolean {
  const split = requirements.map(splitRequirement);
  return (labels) => {
    for (const r of split) if (!holds(r, labels)) return false;
    return true;
  };
}

export function selectorMatches(requirements: Requirement[], labels: readonly ParsedLabel[]): boolean {
  return compileSelector(requirements)(labels);
}
