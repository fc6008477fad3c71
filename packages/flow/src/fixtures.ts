// Recorded flows for tests and benchmarks (testdata/recorded-flows.jsonl, a synthetic recording
// of the lab cluster). Never a live source.
import { readFileSync } from 'node:fs';
import { fromJson } from '@bufbuild/protobuf';
import { FlowSchema, type Flow } from './gen/flow/flow_pb.js';
import { registry } from './encryption.js';
import { recordFromFlow, recordSummary, type FlowEndpoint, type FlowRecord } from './record.js';

/** Path of the recorded flows, valid from both src/ and dist/. */
export const recordedFlowsPath = new URL('../testdata/recorded-flows.jsonl', import.meta.url);

export function parseFlowsJsonl(text: string): Flow[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => fromJson(FlowSchema, JSON.parse(l), { registry }));
}

export function loadRecordedFlows(): Flow[] {
  return parseFlowsJsonl(readFileSync(recordedFlowsPath, 'utf8'));
}

/**
 * The recorded flows as the live path's records, as enrich makes them: Cilium's Summary set, and
 * flows of the same endpoint sharing one FlowEndpoint (equal wire bytes), as a pod's flows do.
 */
export function loadRecordedRecords(): FlowRecord[] {
  const endpoints = new Map<string, FlowEndpoint>();
  const shared = (ep: FlowEndpoint | undefined) => {
    if (!ep) return undefined;
    const key = Buffer.from(ep.bytes).toString('hex');
    const known = endpoints.get(key);
    if (known) return known;
    endpoints.set(key, ep);
    return ep;
  };
  return loadRecordedFlows().map((flow) => {
    const r = recordFromFlow(flow);
    r.summary = recordSummary(r);
    r.source = shared(r.source);
    r.destination = shared(r.destination);
    return r;
  });
}
