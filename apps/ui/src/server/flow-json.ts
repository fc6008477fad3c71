// Flows as the browser gets them: Hubble's JSON (protojson, proto field names, the Wirescope
// Encryption extension unpacked through the registry), the shape `wirescope observe -o json` prints.
// Written by FastJson: protobuf-es's toJson costs ~290 µs a flow, too much for 5,000 flows/s.
import type { JsonObject } from '@bufbuild/protobuf';
import { FlowSchema, registry, type Flow, type GetFlowsResponse } from '@wirescope/flow';
import { FastJson } from './fast-json.js';

export type FlowJson = JsonObject;

const writer = new FastJson(registry);

export function flowJson(flow: Flow): FlowJson {
  return writer.write(FlowSchema, flow) as FlowJson;
}

/** The flows among responses, as JSON; node status and lost events are reported elsewhere. */
export function responsesToFlows(responses: readonly GetFlowsResponse[]): FlowJson[] {
  const out: FlowJson[] = [];
  for (const r of responses) if (r.responseTypes.case === 'flow') out.push(flowJson(r.responseTypes.value));
  return out;
}
