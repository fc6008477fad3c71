// Flows as the browser gets them: Hubble's JSON (protojson, proto field names, the Wirescope
// Encryption extension unpacked through the registry), the shape `wirescope observe -o json` prints.
import { toJson, type JsonObject } from '@bufbuild/protobuf';
import { FlowSchema, registry, type Flow, type GetFlowsResponse } from '@wirescope/flow';

export type FlowJson = JsonObject;

export function flowJson(flow: Flow): FlowJson {
  return toJson(FlowSchema, flow, { useProtoFieldName: true, registry }) as FlowJson;
}

/** The flows among responses, as JSON; node status and lost events are reported elsewhere. */
export function responsesToFlows(responses: readonly GetFlowsResponse[]): FlowJson[] {
  const out: FlowJson[] = [];
  for (const r of responses) if (r.responseTypes.case === 'flow') out.push(flowJson(r.responseTypes.value));
  return out;
}
