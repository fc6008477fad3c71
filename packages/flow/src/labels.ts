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

function lookup(labels: readonly ParsedLabel[], key: string): string[] {
  const colon = key.indexOf(':');
  const wanted =
    colon === -1 ? { source: 'any', key } : { source: key.slice(0, colon), key: key.slice(colon + 1) };
  const out: string[] = [];
  for (const l of labels) {
    if (l.key !== wanted.key) continue;
    if (wanted.source !== 'any' && l.source !== 'any' && l.source !== wanted.source) continue;
    out.push(l.value);
  }
  return out;
}

export function selectorMatches(requirements: Requirement[], labels: readonly ParsedLabel[]): boolean {
  for (const r of requirements) {
    const values = lookup(labels, r.key);
    switch (r.op) {
      case 'exists':
        if (values.length === 0) return false;
        break;
      case '!exists':
        if (values.length > 0) return false;
        break;
      case 'in':
        if (!values.some((v) => r.values.includes(v))) return false;
        break;
      case 'notin':
        if (values.some((v) => r.values.includes(v))) return false;
        break;
    }
  }
  return true;
}
