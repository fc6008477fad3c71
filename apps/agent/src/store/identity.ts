/** Reserved security identities (Cilium's numbers): never allocated from the store. */
export const RESERVED_IDENTITIES: Readonly<Record<string, number>> = {
  host: 1,
  world: 2,
  unmanaged: 3,
  health: 4,
  init: 5,
  'remote-node': 6,
};

/** First identity handed out for label sets; everything below is reserved for fixed meanings. */
export const FIRST_ALLOCATED_IDENTITY = 256;
/** Cilium's cluster-local identity space ends at 2^16 - 1. */
export const LAST_ALLOCATED_IDENTITY = 65535;

/**
 * Canonical form of a label set: sorted "key=value" joined by ";". Label order must not change
 * the identity, and the separator cannot appear in a valid label.
 */
export function canonicalLabels(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key] ?? ''}`)
    .join(';');
}

/** A label set such as {"reserved:host": ""} maps to its fixed identity; anything else to undefined. */
export function reservedIdentityFor(labels: Record<string, string>): number | undefined {
  const keys = Object.keys(labels);
  if (keys.length !== 1) return undefined;
  const [key] = keys;
  if (!key?.startsWith('reserved:')) return undefined;
  return RESERVED_IDENTITIES[key.slice('reserved:'.length)];
}
