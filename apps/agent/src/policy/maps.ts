/**
 * Writes the compiled policy of the local endpoints into the lxc object's ws_policy and
 * ws_policy_ep (bpf/lib/policy.h) without a gap: entries first, then the endpoint flags that
 * make the datapath look them up; stale flags go before stale entries. An entry that is the
 * same before and after is never touched, so re-applying a policy changes nothing in flight.
 */
import type { BpfMap, BpfObject } from '@wirescope/libbpf';
import { endpointValue, policyKey, policyValue } from '@wirescope/policy';
import type { EndpointPolicyProgram } from './engine.js';

export interface PolicyMapCounts {
  entries: number;
  endpoints: number;
  written: number;
  deleted: number;
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}

function current(map: BpfMap): Map<string, Buffer> {
  return new Map([...map.entries()].map(([k, v]) => [k.toString('hex'), v]));
}

function writeChanged(map: BpfMap, have: Map<string, Buffer>, want: Map<string, Buffer>): number {
  let written = 0;
  for (const [hex, value] of want) {
    if (have.get(hex)?.equals(value)) continue;
    map.update(Buffer.from(hex, 'hex'), value);
    written++;
  }
  return written;
}

function deleteStale(map: BpfMap, have: Map<string, Buffer>, want: Map<string, Buffer>): number {
  let deleted = 0;
  for (const hex of have.keys()) {
    if (want.has(hex)) continue;
    map.delete(Buffer.from(hex, 'hex'));
    deleted++;
  }
  return deleted;
}

export function writePolicyMaps(
  object: BpfObject,
  program: EndpointPolicyProgram[],
  ifindexOf: (interfaceName: string) => number | undefined,
): PolicyMapCounts {
  const entries = new Map<string, Buffer>();
  const endpoints = new Map<string, Buffer>();
  for (const ep of program) {
    const ifindex = ifindexOf(ep.interface);
    if (!ifindex) continue;
    endpoints.set(u32(ifindex).toString('hex'), endpointValue(ep.flags, ep.generation));
    for (const { entry, cookie } of ep.entries)
      entries.set(policyKey(ifindex, entry).toString('hex'), policyValue(entry, cookie));
  }
  const policyMap = object.map('ws_policy');
  const epMap = object.map('ws_policy_ep');
  const haveEntries = current(policyMap);
  const haveEndpoints = current(epMap);
  let written = writeChanged(policyMap, haveEntries, entries);
  written += writeChanged(epMap, haveEndpoints, endpoints);
  let deleted = deleteStale(epMap, haveEndpoints, endpoints);
  deleted += deleteStale(policyMap, haveEntries, entries);
  return { entries: entries.size, endpoints: endpoints.size, written, deleted };
}
