// Hubble UI's filter grammar, `[!][from:|to:|either:]kind=value`, shared by the SPA (URL, filter
// bar) and the server (which turns entries into `wirescope observe` flags, so the UI and the CLI
// select the same flows). No Node or DOM dependency: both sides import it.

export type Direction = 'either' | 'from' | 'to';

export interface FilterEntry {
  negated: boolean;
  direction: Direction;
  kind: FilterKind;
  value: string;
}

/** Kinds that name an endpoint: `from:`/`to:` select one side, none either side (as hubble --pod). */
const sidedFlags = {
  pod: '--pod',
  namespace: '--namespace',
  label: '--label',
  ip: '--ip',
  port: '--port',
  identity: '--identity',
  fqdn: '--fqdn',
  workload: '--workload',
} as const;

/** Kinds that describe the whole flow. */
const flowFlags = {
  verdict: '--verdict',
  protocol: '--protocol',
  node: '--node-name',
  type: '--type',
  'drop-reason': '--drop-reason-desc',
  peer: '--peer',
  mechanism: '--mechanism',
  'tcp-flag': '--tcp-flags',
  direction: '--traffic-direction',
  encrypted: '',
} as const;

export type FilterKind = keyof typeof sidedFlags | keyof typeof flowFlags;

const aliases: Record<string, FilterKind> = { dns: 'fqdn', ns: 'namespace', 'node-name': 'node' };

export const filterKinds: readonly FilterKind[] = [
  ...(Object.keys(sidedFlags) as FilterKind[]),
  ...(Object.keys(flowFlags) as FilterKind[]),
];

export class FilterSyntaxError extends Error {
  override name = 'FilterSyntaxError';
}

function isKind(name: string): name is FilterKind {
  return (filterKinds as readonly string[]).includes(name);
}

/**
 * One entry. As in Hubble UI, text without `=` or with an unknown kind is a label selector
 * (`app=frontend` is `label=app=frontend`).
 */
export function parseFilterEntry(text: string): FilterEntry {
  let rest = text.trim();
  if (!rest) throw new FilterSyntaxError('an empty filter entry');
  const negated = rest.startsWith('!');
  if (negated) rest = rest.slice(1).trim();
  let direction: Direction = 'either';
  const dir = /^(from|to|either):/.exec(rest);
  if (dir) {
    direction = dir[1] as Direction;
    rest = rest.slice(dir[0].length);
  }
  const eq = rest.indexOf('=');
  const head = eq > 0 ? rest.slice(0, eq).trim().toLowerCase() : '';
  const named = aliases[head] ?? head;
  const kind: FilterKind = isKind(named) ? named : 'label';
  const value = kind === 'label' && !isKind(named) ? rest : rest.slice(eq + 1).trim();
  if (!value) throw new FilterSyntaxError(`"${text}": ${kind}= needs a value`);
  if (direction !== 'either' && !(kind in sidedFlags))
    throw new FilterSyntaxError(
      `"${text}": ${direction}: applies to endpoint kinds only (${Object.keys(sidedFlags).join(', ')})`,
    );
  if (kind === 'encrypted' && value !== 'true' && value !== 'false')
    throw new FilterSyntaxError(`"${text}": encrypted= takes true or false`);
  return { negated, direction, kind, value };
}

export function parseFilterEntries(texts: readonly string[]): FilterEntry[] {
  return texts.filter((t) => t.trim()).map(parseFilterEntry);
}

/** The canonical text of an entry (what the URL keeps). */
export function formatFilterEntry(e: FilterEntry): string {
  return `${e.negated ? '!' : ''}${e.direction === 'either' ? '' : `${e.direction}:`}${e.kind}=${e.value}`;
}

/** The `wirescope observe` flags that select the same flows as the entries. */
export function observeFlags(entries: readonly FilterEntry[]): string[] {
  const flags: string[] = [];
  for (const e of entries) {
    if (e.negated) flags.push('--not');
    if (e.kind === 'encrypted') {
      flags.push(e.value === 'true' ? '--encrypted' : '--unencrypted');
    } else if (e.kind in sidedFlags) {
      const flag = sidedFlags[e.kind as keyof typeof sidedFlags];
      flags.push(e.direction === 'either' ? flag : `--${e.direction}-${flag.slice(2)}`, e.value);
    } else {
      flags.push(flowFlags[e.kind as keyof typeof flowFlags], e.value);
    }
  }
  return flags;
}
