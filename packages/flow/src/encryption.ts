// Wirescope's encryption facts ride in Flow.extensions as a packed wirescope.v1.Encryption.
import { create, createRegistry, fromBinary } from '@bufbuild/protobuf';
import { file_flow_flow, type Flow } from './gen/flow/flow_pb.js';
import { file_observer_observer } from './gen/observer/observer_pb.js';
import { file_peer_peer } from './gen/peer/peer_pb.js';
import { file_relay_relay } from './gen/relay/relay_pb.js';
import {
  EncryptionSchema,
  Mechanism,
  file_wirescope_v1_wirescope,
  type Encryption,
} from './gen/wirescope/v1/wirescope_pb.js';
import { AnySchema, type Any } from '@bufbuild/protobuf/wkt';
import { compileEncoder } from './compiled-encoder.js';
import { FlowExtension } from './record.js';

export const encryptionTypeUrl = 'type.googleapis.com/wirescope.v1.Encryption';

/** Every Wirescope and Hubble type: JSON output needs it to print the packed extension. */
export const registry = createRegistry(
  file_flow_flow,
  file_observer_observer,
  file_peer_peer,
  file_relay_relay,
  file_wirescope_v1_wirescope,
);

export function encryptionOf(flow: Flow): Encryption | undefined {
  const ext = flow.extensions;
  if (!ext || ext.typeUrl !== encryptionTypeUrl) return undefined;
  try {
    return fromBinary(EncryptionSchema, ext.value);
  } catch {
    return undefined;
  }
}

/**
 * The two Encryption fields the filters read (mechanism, peer_node), scanned off the packed bytes
 * without decoding the message: filters run on every flow for every client, and one scan per flow
 * serves every filter of every client (see encryptionFields).
 */
export interface EncryptionFields {
  mechanism: number;
  /** The packed Encryption; peer_node is bytes[peerStart, peerEnd) (UTF-8), empty when unset. */
  bytes: Uint8Array;
  peerStart: number;
  peerEnd: number;
}

const noBytes = new Uint8Array(0);
const scanned: EncryptionFields = { mechanism: 0, bytes: noBytes, peerStart: 0, peerEnd: 0 };
/**
 * The Any value last scanned: an observer offers one flow to every client in turn, and the flows
 * of one peer share one packed extension (packedEncryption), so its bytes are the key.
 */
let scannedValue: Uint8Array | undefined;
/** Read position of scanVarint (a module variable so that the scan allocates nothing). */
let scanAt = 0;

/** The varint at scanAt, advancing it; -1 when truncated or too long. */
function scanVarint(buf: Uint8Array): number {
  let result = 0;
  let shift = 0;
  while (scanAt < buf.length) {
    const b = buf[scanAt++]!;
    result += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return result;
    shift += 7;
    if (shift > 63) return -1;
  }
  return -1;
}

function scan(value: Uint8Array): void {
  scanned.bytes = value;
  scanned.mechanism = 0;
  scanned.peerStart = scanned.peerEnd = 0;
  scanAt = 0;
  while (scanAt < value.length) {
    const tag = scanVarint(value);
    if (tag < 0) return;
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (wireType === 0) {
      const v = scanVarint(value);
      if (v < 0) return;
      if (field === 1) scanned.mechanism = v;
    } else if (wireType === 2) {
      const len = scanVarint(value);
      if (len < 0 || scanAt + len > value.length) return;
      if (field === 2) {
        scanned.peerStart = scanAt;
        scanned.peerEnd = scanAt + len;
      }
      scanAt += len;
    } else if (wireType === 1) scanAt += 8;
    else if (wireType === 5) scanAt += 4;
    else return; // malformed past here: keep what was read
  }
}

/**
 * Mechanism and peer node of `flow`'s Encryption extension (mechanism 0 and no peer when it has
 * none). The result is shared and valid until the next call: read it, never keep it.
 */
export function encryptionFields(flow: Flow): Readonly<EncryptionFields> {
  return extensionEncryptionFields(flow.extensions);
}

/** encryptionFields of a Flow.extensions value (a flow record's FlowExtension.message). */
export function extensionEncryptionFields(ext: Any | undefined): Readonly<EncryptionFields> {
  const value = ext?.typeUrl === encryptionTypeUrl ? ext.value : noBytes;
  if (scannedValue !== value) {
    scannedValue = value;
    scan(value);
  }
  return scanned;
}

/** Packs `enc` into flow.extensions (mutates and returns the flow). */
export function setEncryption(flow: Flow, enc: Partial<Omit<Encryption, '$typeName'>>): Flow {
  flow.extensions = packedEncryption(enc);
  return flow;
}

// a node sees few distinct encryption facts (per peer and key index): pack each once
const packed = new Map<string, FlowExtension>();
const encodeEncryption = compileEncoder(EncryptionSchema, { ownBuffer: true });

/**
 * `enc` as the Any that Flow.extensions carries. Shared between flows with the same facts (a
 * bounded cache, as the agent packs one per flow): treat it as immutable.
 */
export function packedEncryption(enc: Partial<Omit<Encryption, '$typeName'>>): Any {
  return packedEncryptionExtension(enc).message;
}

/** packedEncryption as a flow record's extension (the same shared Any, with its wire bytes). */
export function packedEncryptionExtension(enc: Partial<Omit<Encryption, '$typeName'>>): FlowExtension {
  const key = `${enc.mechanism ?? 0}|${enc.peerNode ?? ''}|${enc.peerPublicKey ?? ''}|${enc.receiverIndex ?? 0}|${enc.leak ? 1 : 0}|${enc.kernelDropReason ?? ''}|${enc.kernelDropReasonCode ?? 0}`;
  let ext = packed.get(key);
  if (ext === undefined) {
    if (packed.size >= 4096) packed.clear();
    // frozen: shared by many flows, and the compiled Flow encoder then writes its bytes once
    ext = new FlowExtension(
      create(AnySchema, {
        typeUrl: encryptionTypeUrl,
        value: encodeEncryption(create(EncryptionSchema, enc)),
      }),
    );
    packed.set(key, ext);
  }
  return ext;
}

export const mechanismNames: Record<string, Mechanism> = {
  none: Mechanism.NONE,
  wireguard: Mechanism.WIREGUARD,
};

export function mechanismName(m: Mechanism): string {
  return m === Mechanism.WIREGUARD ? 'wireguard' : m === Mechanism.NONE ? 'none' : 'unspecified';
}
