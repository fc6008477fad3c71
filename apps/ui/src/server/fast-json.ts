// protojson (proto field names) for the flows the UI streams, without protobuf-es's per-call
// reflection: a writer per message type is built once from its descriptor. toJson took ~290 µs
// per flow, which capped the server far below 5,000 flows/s; these writers give the same JSON
// (the test checks it on every recorded flow) in a fraction of that. Well-known types other than
// Timestamp, the wrappers and Any go through toJson.
import {
  fromBinary,
  toJson,
  type DescEnum,
  type DescField,
  type DescMessage,
  type JsonValue,
  type Registry,
  ScalarType,
} from '@bufbuild/protobuf';

import { FeatureSet_FieldPresence } from '@bufbuild/protobuf/wkt';

type Writer = (message: Record<string, unknown>) => Record<string, JsonValue>;
type ValueWriter = (value: unknown) => JsonValue;

export const wrapperTypes = new Set([
  'google.protobuf.DoubleValue',
  'google.protobuf.FloatValue',
  'google.protobuf.Int64Value',
  'google.protobuf.UInt64Value',
  'google.protobuf.Int32Value',
  'google.protobuf.UInt32Value',
  'google.protobuf.BoolValue',
  'google.protobuf.StringValue',
  'google.protobuf.BytesValue',
]);

function scalarWriter(type: ScalarType): ValueWriter {
  switch (type) {
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return (v) => String(v);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return (v) => {
        const n = v as number;
        if (Number.isNaN(n)) return 'NaN';
        if (n === Infinity) return 'Infinity';
        if (n === -Infinity) return '-Infinity';
        return n;
      };
    case ScalarType.BYTES:
      return (v) => Buffer.from(v as Uint8Array).toString('base64');
    default:
      return (v) => v as JsonValue;
  }
}

function isDefaultScalar(v: unknown): boolean {
  return v === 0 || v === false || v === '' || v === 0n || (v instanceof Uint8Array && v.length === 0);
}

function enumWriter(desc: DescEnum): ValueWriter {
  const names = new Map(desc.values.map((v) => [v.number, v.name]));
  return (v) => names.get(v as number) ?? (v as number);
}

export function timestampJson(ts: { seconds: bigint; nanos: number }): string {
  const ms = Number(ts.seconds) * 1000;
  const text = new Date(ms).toISOString(); // ...:SS.000Z
  const base = text.slice(0, 19);
  if (ts.nanos === 0) return `${base}Z`;
  const frac = String(ts.nanos).padStart(9, '0');
  const digits = frac.endsWith('000000') ? frac.slice(0, 3) : frac.endsWith('000') ? frac.slice(0, 6) : frac;
  return `${base}.${digits}Z`;
}

type Plan = (m: Record<string, unknown>, out: Record<string, JsonValue>) => void;

function compose(plans: Plan[]): Writer {
  return (m) => {
    const out: Record<string, JsonValue> = {};
    for (const p of plans) p(m, out);
    return out;
  };
}

export class FastJson {
  private readonly writers = new Map<DescMessage, Writer>();

  constructor(private readonly registry: Registry) {}

  write(schema: DescMessage, message: unknown): JsonValue {
    return this.messageValue(schema)(message);
  }

  private messageValue(desc: DescMessage): ValueWriter {
    if (desc.typeName === 'google.protobuf.Timestamp')
      return (v) => timestampJson(v as { seconds: bigint; nanos: number });
    // protobuf-es holds a wrapper field as its plain value (isReply: boolean | undefined)
    if (wrapperTypes.has(desc.typeName)) return scalarWriter(desc.fields[0]!.scalar!);
    if (desc.typeName === 'google.protobuf.Any')
      return (v) => this.any(v as { typeUrl: string; value: Uint8Array });
    if (desc.typeName.startsWith('google.protobuf.'))
      return (v) => toJson(desc, v as never, { useProtoFieldName: true, registry: this.registry });
    return (v) => this.writer(desc)(v as Record<string, unknown>);
  }

  private any(v: { typeUrl: string; value: Uint8Array }): JsonValue {
    const name = v.typeUrl.slice(v.typeUrl.lastIndexOf('/') + 1);
    const desc = this.registry.getMessage(name);
    // toJson refuses a type it cannot resolve; a flow from a newer agent still shows, packed
    if (!desc) return { '@type': v.typeUrl, value: Buffer.from(v.value).toString('base64') };
    const inner = this.writer(desc)(fromBinary(desc, v.value) as unknown as Record<string, unknown>);
    return { ...inner, '@type': v.typeUrl };
  }

  /**
   * A writer of some top-level fields only (proto names), each written exactly as `write` would:
   * the compact form of a message for a reader that needs no more.
   */
  projection(desc: DescMessage, fields: readonly string[]): (message: unknown) => Record<string, JsonValue> {
    const wanted = new Set(fields);
    const unknown = fields.filter((name) => !desc.fields.some((f) => f.name === name));
    if (unknown.length) throw new Error(`${desc.typeName} has no field ${unknown.join(', ')}`);
    const writer = compose(desc.fields.filter((f) => wanted.has(f.name)).map((f) => this.plan(f)));
    return (m) => writer(m as Record<string, unknown>);
  }

  private writer(desc: DescMessage): Writer {
    const cached = this.writers.get(desc);
    if (cached) return cached;
    // fields of message type resolve their writer on first use, so a type may contain itself
    const built = compose(desc.fields.map((f) => this.plan(f)));
    this.writers.set(desc, built);
    return built;
  }

  private plan(f: DescField): Plan {
    const name = f.name;
    const read: (m: Record<string, unknown>) => unknown = f.oneof
      ? (m) => {
          const o = m[f.oneof!.localName] as { case?: string; value?: unknown } | undefined;
          return o?.case === f.localName ? o.value : undefined;
        }
      : (m) => m[f.localName];
    const explicit = f.oneof !== undefined || f.presence === FeatureSet_FieldPresence.EXPLICIT;
    switch (f.fieldKind) {
      case 'scalar': {
        const w = scalarWriter(f.scalar);
        return (m, out) => {
          const v = read(m);
          if (v === undefined || (!explicit && isDefaultScalar(v))) return;
          out[name] = w(v);
        };
      }
      case 'enum': {
        const w = enumWriter(f.enum);
        return (m, out) => {
          const v = read(m);
          if (v === undefined || (!explicit && v === 0)) return;
          out[name] = w(v);
        };
      }
      case 'message': {
        let w: ValueWriter | undefined;
        return (m, out) => {
          const v = read(m);
          if (v === undefined) return;
          w ??= this.messageValue(f.message);
          out[name] = w(v);
        };
      }
      case 'list': {
        let w: ValueWriter | undefined;
        const element = (): ValueWriter =>
          f.listKind === 'scalar'
            ? scalarWriter(f.scalar)
            : f.listKind === 'enum'
              ? enumWriter(f.enum)
              : this.messageValue(f.message);
        return (m, out) => {
          const v = m[f.localName] as unknown[];
          if (!v.length) return;
          w ??= element();
          out[name] = v.map(w);
        };
      }
      case 'map': {
        let w: ValueWriter | undefined;
        const element = (): ValueWriter =>
          f.mapKind === 'scalar'
            ? scalarWriter(f.scalar)
            : f.mapKind === 'enum'
              ? enumWriter(f.enum)
              : this.messageValue(f.message);
        return (m, out) => {
          const v = m[f.localName] as Record<string, unknown>;
          const keys = Object.keys(v);
          if (!keys.length) return;
          w ??= element();
          const obj: Record<string, JsonValue> = {};
          for (const k of keys) obj[k] = w(v[k]);
          out[name] = obj;
        };
      }
    }
  }
}
