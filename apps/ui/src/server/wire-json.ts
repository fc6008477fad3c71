// Hubble's JSON straight from a flow's protobuf bytes, driven by the descriptors: the same JSON as
// FastJson writes from the decoded message (the test checks every recorded flow) without building
// the message first. Decoding each GetFlowsResponse into protobuf-es messages was the UI server's
// largest cost under live load (~40% of its busy time at 5,000 flows/s), ahead of the JSON itself.
// Well-known types other than Timestamp, the wrappers and Any are decoded and go through toJson.
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
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { FeatureSet_FieldPresence } from '@bufbuild/protobuf/wkt';
import { timestampJson, wrapperTypes } from './fast-json.js';

type Out = Record<string, JsonValue>;

/** A reader that lets a well-known type take its own bytes to protobuf-es. */
class Reader extends BinaryReader {
  get source(): Uint8Array {
    return this.buf;
  }
}
/** Reads one occurrence of a field (its tag already read) into `out`. */
type FieldReader = (r: BinaryReader, wireType: WireType, out: Out) => void;
type ScalarReader = (r: BinaryReader) => JsonValue;

function scalarReader(type: ScalarType): ScalarReader {
  switch (type) {
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT: {
      const read =
        type === ScalarType.DOUBLE ? (r: BinaryReader) => r.double() : (r: BinaryReader) => r.float();
      return (r) => {
        const n = read(r);
        if (Number.isNaN(n)) return 'NaN';
        if (n === Infinity) return 'Infinity';
        if (n === -Infinity) return '-Infinity';
        return n;
      };
    }
    case ScalarType.INT64:
      return (r) => String(r.int64());
    case ScalarType.UINT64:
      return (r) => String(r.uint64());
    case ScalarType.SINT64:
      return (r) => String(r.sint64());
    case ScalarType.FIXED64:
      return (r) => String(r.fixed64());
    case ScalarType.SFIXED64:
      return (r) => String(r.sfixed64());
    case ScalarType.INT32:
      return (r) => r.int32();
    case ScalarType.UINT32:
      return (r) => r.uint32();
    case ScalarType.SINT32:
      return (r) => r.sint32();
    case ScalarType.FIXED32:
      return (r) => r.fixed32();
    case ScalarType.SFIXED32:
      return (r) => r.sfixed32();
    case ScalarType.BOOL:
      return (r) => r.bool();
    case ScalarType.STRING:
      return (r) => r.string();
    case ScalarType.BYTES:
      return (r) => Buffer.from(r.bytes()).toString('base64');
  }
}

const scalarDefault = (type: ScalarType): JsonValue => {
  switch (type) {
    case ScalarType.BOOL:
      return false;
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return '';
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return '0';
    default:
      return 0;
  }
};

const isDefault = (v: JsonValue): boolean => v === 0 || v === false || v === '' || v === '0';

/** Scalars and enums a repeated field may pack (everything but strings, bytes and messages). */
const packable = (type: ScalarType | undefined) => type !== ScalarType.STRING && type !== ScalarType.BYTES;

function enumName(desc: DescEnum): (n: number) => JsonValue {
  const names = new Map(desc.values.map((v) => [v.number, v.name]));
  return (n) => names.get(n) ?? n;
}

function enumReader(desc: DescEnum): ScalarReader {
  const name = enumName(desc);
  return (r) => name(r.int32());
}

export class WireJson {
  private readonly plans = new Map<DescMessage, Map<number, FieldReader>>();

  constructor(private readonly registry: Registry) {}

  /** The JSON of `desc` encoded in `bytes`. */
  read(desc: DescMessage, bytes: Uint8Array): JsonValue {
    const r = new Reader(bytes);
    return this.value(desc)(r, bytes.length);
  }

  /** A reader of some top-level fields only (proto names); the others are skipped undecoded. */
  projection(desc: DescMessage, fields: readonly string[]): (bytes: Uint8Array) => Out {
    const wanted = new Set(fields);
    const plan = new Map<number, FieldReader>();
    for (const f of desc.fields) if (wanted.has(f.name)) plan.set(f.number, this.field(f));
    return (bytes) => {
      const r = new Reader(bytes);
      return this.fields(plan, r, bytes.length);
    };
  }

  /** How a message of `desc` is read from `r` up to `end`. */
  private value(desc: DescMessage): (r: BinaryReader, end: number) => JsonValue {
    if (desc.typeName === 'google.protobuf.Timestamp')
      return (r, end) => {
        let seconds = 0n;
        let nanos = 0;
        while (r.pos < end) {
          const [no, wt] = r.tag();
          if (no === 1 && wt === WireType.Varint) seconds = BigInt(r.int64());
          else if (no === 2 && wt === WireType.Varint) nanos = r.int32();
          else r.skip(wt, no);
        }
        return timestampJson({ seconds, nanos });
      };
    if (wrapperTypes.has(desc.typeName)) {
      const inner = desc.fields[0]!;
      const read = scalarReader(inner.scalar!);
      const fallback = scalarDefault(inner.scalar!);
      return (r, end) => {
        let v = fallback;
        while (r.pos < end) {
          const [no, wt] = r.tag();
          if (no === 1) v = read(r);
          else r.skip(wt, no);
        }
        return v;
      };
    }
    if (desc.typeName === 'google.protobuf.Any') return (r, end) => this.any(r, end);
    if (desc.typeName.startsWith('google.protobuf.'))
      return (r, end) => {
        const bytes = (r as Reader).source.subarray(r.pos, end);
        r.pos = end;
        return toJson(desc, fromBinary(desc, bytes), { useProtoFieldName: true, registry: this.registry });
      };
    return (r, end) => this.fields(this.plan(desc), r, end);
  }

  private fields(plan: Map<number, FieldReader>, r: BinaryReader, end: number): Out {
    const out: Out = {};
    while (r.pos < end) {
      const [no, wt] = r.tag();
      const read = plan.get(no);
      if (read) read(r, wt, out);
      else r.skip(wt, no);
    }
    return out;
  }

  private any(r: BinaryReader, end: number): JsonValue {
    let typeUrl = '';
    let value: Uint8Array = new Uint8Array(0);
    while (r.pos < end) {
      const [no, wt] = r.tag();
      if (no === 1 && wt === WireType.LengthDelimited) typeUrl = r.string();
      else if (no === 2 && wt === WireType.LengthDelimited) value = r.bytes();
      else r.skip(wt, no);
    }
    const desc = this.registry.getMessage(typeUrl.slice(typeUrl.lastIndexOf('/') + 1));
    // toJson refuses a type it cannot resolve; a flow from a newer agent still shows, packed
    if (!desc) return { '@type': typeUrl, value: Buffer.from(value).toString('base64') };
    const inner = this.read(desc, value) as Out;
    return { ...inner, '@type': typeUrl };
  }

  private plan(desc: DescMessage): Map<number, FieldReader> {
    const cached = this.plans.get(desc);
    if (cached) return cached;
    const plan = new Map<number, FieldReader>();
    // set before the fields are planned: a message may contain itself
    this.plans.set(desc, plan);
    for (const f of desc.fields) plan.set(f.number, this.field(f));
    return plan;
  }

  private field(f: DescField): FieldReader {
    const name = f.name;
    // a later member of a oneof replaces the earlier one, as the decoded message would
    const siblings = f.oneof ? f.oneof.fields.filter((o) => o !== f).map((o) => o.name) : [];
    const set = (out: Out, v: JsonValue) => {
      for (const s of siblings) delete out[s];
      out[name] = v;
    };
    const explicit = f.oneof !== undefined || f.presence === FeatureSet_FieldPresence.EXPLICIT;
    const message = (desc: DescMessage) => {
      let read: ((r: BinaryReader, end: number) => JsonValue) | undefined;
      return (r: BinaryReader): JsonValue => {
        read ??= this.value(desc);
        const len = r.uint32();
        return read(r, r.pos + len);
      };
    };
    // the element of a list or the value of a map
    const elementOf = (
      kind: 'message' | 'enum' | 'scalar',
      of: { message?: DescMessage; enum?: DescEnum; scalar?: ScalarType },
    ): ScalarReader =>
      kind === 'message'
        ? message(of.message!)
        : kind === 'enum'
          ? enumReader(of.enum!)
          : scalarReader(of.scalar!);
    switch (f.fieldKind) {
      case 'enum': {
        const toName = enumName(f.enum);
        return (r, _wt, out) => {
          const n = r.int32();
          if (!explicit && n === 0) delete out[name];
          else set(out, toName(n));
        };
      }
      case 'scalar': {
        const read = scalarReader(f.scalar);
        return (r, _wt, out) => {
          const v = read(r);
          if (!explicit && isDefault(v)) delete out[name];
          else set(out, v);
        };
      }
      case 'message': {
        const read = message(f.message);
        return (r, _wt, out) => {
          const v = read(r);
          const prev = out[name];
          // a message field seen twice merges (rare; protobuf's rule for split messages)
          if (
            prev &&
            typeof prev === 'object' &&
            !Array.isArray(prev) &&
            typeof v === 'object' &&
            v &&
            !Array.isArray(v)
          )
            set(out, { ...prev, ...v });
          else set(out, v);
        };
      }
      case 'list': {
        const element = elementOf(f.listKind, f);
        const canPack = f.listKind === 'enum' || (f.listKind === 'scalar' && packable(f.scalar));
        return (r, wt, out) => {
          const list = ((out[name] as JsonValue[] | undefined) ?? (out[name] = [])) as JsonValue[];
          if (canPack && wt === WireType.LengthDelimited) {
            const end = r.uint32() + r.pos;
            while (r.pos < end) list.push(element(r));
          } else list.push(element(r));
        };
      }
      case 'map': {
        const key = scalarReader(f.mapKey);
        const keyDefault = String(scalarDefault(f.mapKey));
        const value = elementOf(f.mapKind, f);
        const valueDefault = (): JsonValue =>
          f.mapKind === 'message'
            ? {}
            : f.mapKind === 'enum'
              ? (f.enum.values[0]?.name ?? 0)
              : scalarDefault(f.scalar);
        return (r, _wt, out) => {
          const obj = ((out[name] as Out | undefined) ?? (out[name] = {})) as Out;
          const end = r.uint32() + r.pos;
          let k = keyDefault;
          let v: JsonValue | undefined;
          while (r.pos < end) {
            const [no, wt] = r.tag();
            if (no === 1) k = String(key(r));
            else if (no === 2) v = value(r);
            else r.skip(wt, no);
          }
          obj[k] = v ?? valueDefault();
        };
      }
    }
  }
}
