/**
 * Byte layouts of the policy maps of bpf/lib/policy.h (host byte order except dport, which is
 * big-endian because an LPM trie compares key bytes most significant first).
 *
 *   struct ws_policy_key   { u32 prefixlen; u32 endpoint; u32 identity; u8 egress; u8 protocol; be16 dport; }  16 B
 *   struct ws_policy_value { u32 precedence; u32 cookie; u8 deny; u8 prefix_len; u8 pad[2]; }                  12 B
 *   struct ws_policy_ep    { u32 flags; u32 generation; }                                                       8 B
 */
import type { CompiledEndpoint, PolicyEntry } from './compile.js';
import { l4PrefixLength } from './lookup.js';

export const POLICY_KEY_SIZE = 16;
export const POLICY_VALUE_SIZE = 12;
/** endpoint + identity + direction are always exact */
export const POLICY_STATIC_PREFIX_BITS = 72;
export const POLICY_DENY_PRECEDENCE = 0xffffffff;
export const POLICY_ALLOW_PRECEDENCE = 1;

/** struct ws_policy_ep.flags (enum ws_policy_ep_flag) */
export const PolicyEpFlag = {
  INGRESS_ACTIVE: 0x1,
  EGRESS_ACTIVE: 0x2,
  INGRESS_ENFORCED: 0x4,
  EGRESS_ENFORCED: 0x8,
  AUDIT: 0x10,
  REQUIRE_ENCRYPTION: 0x20,
} as const;

export function policyKey(endpoint: number, e: PolicyEntry): Buffer {
  const key = Buffer.alloc(POLICY_KEY_SIZE);
  key.writeUInt32LE(POLICY_STATIC_PREFIX_BITS + l4PrefixLength(e), 0);
  key.writeUInt32LE(endpoint >>> 0, 4);
  key.writeUInt32LE(e.identity >>> 0, 8);
  key[12] = e.direction === 'egress' ? 1 : 0;
  key[13] = e.protocol;
  const shift = 16 - e.portBits;
  key.writeUInt16BE(e.portBits === 0 ? 0 : ((e.port >>> shift) << shift) & 0xffff, 14);
  return key;
}

export function policyValue(e: PolicyEntry, cookie: number): Buffer {
  const v = Buffer.alloc(POLICY_VALUE_SIZE);
  v.writeUInt32LE(e.deny ? POLICY_DENY_PRECEDENCE : POLICY_ALLOW_PRECEDENCE, 0);
  v.writeUInt32LE(cookie >>> 0, 4);
  v[8] = e.deny ? 1 : 0;
  v[9] = l4PrefixLength(e);
  return v;
}

export function endpointFlags(c: CompiledEndpoint, audit: boolean): number {
  let flags = 0;
  if (c.ingress.active) flags |= PolicyEpFlag.INGRESS_ACTIVE;
  if (c.egress.active) flags |= PolicyEpFlag.EGRESS_ACTIVE;
  if (c.ingress.enforced) flags |= PolicyEpFlag.INGRESS_ENFORCED;
  if (c.egress.enforced) flags |= PolicyEpFlag.EGRESS_ENFORCED;
  if (audit) flags |= PolicyEpFlag.AUDIT;
  if (c.requireEncryption.length > 0) flags |= PolicyEpFlag.REQUIRE_ENCRYPTION;
  return flags;
}

/**
 * generation: any number that changes whenever the endpoint's entries or flags change (never 0):
 * connections allowed under another generation are looked up again.
 */
export function endpointValue(flags: number, generation: number): Buffer {
  const v = Buffer.alloc(8);
  v.writeUInt32LE(flags >>> 0, 0);
  v.writeUInt32LE(generation >>> 0 || 1, 4);
  return v;
}

/** FNV-1a over what the datapath holds for an endpoint: its generation (changes with content only). */
export function policyGeneration(flags: number, entries: { entry: PolicyEntry; cookie: number }[]): number {
  let h = 0x811c9dc5;
  const mix = (n: number) => {
    for (let i = 0; i < 4; i++) {
      h ^= (n >>> (i * 8)) & 0xff;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  };
  mix(flags);
  const keyed = entries.map(
    ({ entry: e, cookie }) =>
      [
        e.identity,
        (e.direction === 'egress' ? 1 : 0) | (e.deny ? 2 : 0),
        e.protocol,
        e.port,
        e.portBits,
        cookie,
      ] as const,
  );
  keyed.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3] || a[4] - b[4]);
  for (const k of keyed) for (const n of k) mix(n);
  return h || 1;
}
