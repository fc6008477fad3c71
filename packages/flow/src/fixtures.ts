// Recorded flows for tests and benchmarks (testdata/recorded-flows.jsonl, a synthetic recording
// of the lab cluster). Never a live source.
import { readFileSync } from 'node:fs';
import { fromJson } from '@bufbuild/protobuf';
import { FlowSchema, type Flow } from './gen/flow/flow_pb.js';
import { registry } from './encryption.js';

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
