// Flows as the browser gets them: Hubble's JSON (protojson, proto field names, the Wirescope
// Encryption extension unpacked through the registry), the shape `wirescope observe -o json` prints.
// Written by FastJson: protobuf-es's toJson costs ~290 µs a flow, too much for 5,000 flows/s.
// Live flows travel as rows: the same JSON restricted to what the table, the map, the journey and
// the encryption and drops screens read; the details panel fetches the whole flow by its uuid.
import type { JsonObject } from '@bufbuild/protobuf';
import { FlowSchema, registry, type Flow } from '@wirescope/flow';
import { FastJson } from './fast-json.js';
import { WireJson } from './wire-json.js';

export type FlowJson = JsonObject;

const writer = new FastJson(registry);

export function flowJson(flow: Flow): FlowJson {
  return writer.write(FlowSchema, flow) as FlowJson;
}

/** The fields of a live row (proto names); what is left out is in the full flow only. */
export const rowFields = [
  'time',
  'uuid',
  'verdict',
  'drop_reason_desc',
  'IP',
  'l4',
  'source',
  'destination',
  'Type',
  'node_name',
  'event_type',
  'traffic_direction',
  'trace_observation_point',
  'is_reply',
  'egress_allowed_by',
  'ingress_allowed_by',
  'egress_denied_by',
  'ingress_denied_by',
  'extensions',
] as const;

const rowWriter = writer.projection(FlowSchema, rowFields);

/** A live row as JSON text: encoded once per flow and shared by every socket of its stream. */
export function flowRowText(flow: Flow): string {
  return JSON.stringify(rowWriter(flow));
}

const wire = new WireJson(registry);
const rowFromBytes = wire.projection(FlowSchema, rowFields);

/** The same row text from a flow's protobuf bytes (the live path: no message decoded). */
export function flowRowFromBytes(bytes: Uint8Array): string {
  return JSON.stringify(rowFromBytes(bytes));
}

/** The whole flow's JSON from its protobuf bytes (history, export, the details panel). */
export function flowJsonFromBytes(bytes: Uint8Array): FlowJson {
  return wire.read(FlowSchema, bytes) as FlowJson;
}
