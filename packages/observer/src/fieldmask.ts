// GetFlowsRequest.field_mask: keep only the listed flow fields (proto names, dotted paths).
import { fromJson, toJson, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { FlowSchema, registry, type Flow } from '@wirescope/flow';
import { ObserverError } from './errors.js';

function checkPath(path: string): void {
  let desc: DescMessage | undefined = FlowSchema;
  for (const part of path.split('.')) {
    if (!desc)
      throw new ObserverError('INVALID_FIELD_MASK', `field_mask: "${path}" goes below a non-message field`);
    const field: DescField | undefined = desc.fields.find((f) => f.name === part);
    if (!field) {
      throw new ObserverError(
        'INVALID_FIELD_MASK',
        `field_mask: unknown flow field "${part}" in "${path}"; accepted top-level fields: ${FlowSchema.fields.map((f) => f.name).join(', ')}`,
      );
    }
    desc = field.fieldKind === 'message' ? field.message : undefined;
  }
}

type Json = Record<string, unknown>;

function pick(src: Json, dst: Json, parts: string[]): void {
  const [head, ...rest] = parts;
  if (head === undefined || !(head in src)) return;
  if (rest.length === 0) {
    dst[head] = src[head];
    return;
  }
  const child = src[head];
  if (child === null || typeof child !== 'object' || Array.isArray(child)) return;
  const next = (dst[head] ??= {}) as Json;
  pick(child as Json, next, rest);
}

/** Compiles a mask into a function that copies only the masked fields; undefined for no mask. */
export function compileFieldMask(paths: string[]): ((flow: Flow) => Flow) | undefined {
  if (paths.length === 0) return undefined;
  for (const p of paths) checkPath(p);
  const split = paths.map((p) => p.split('.'));
  return (flow) => {
    const json = toJson(FlowSchema, flow, { useProtoFieldName: true, registry }) as Json;
    const out: Json = {};
    for (const parts of split) pick(json, out, parts);
    return fromJson(FlowSchema, out as never, { registry });
  };
}
