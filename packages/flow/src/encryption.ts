// Wirescope's encryption facts ride in Flow.extensions as a packed wirescope.v1.Encryption.
import { create, createRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
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
import { AnySchema } from '@bufbuild/protobuf/wkt';

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

/** Packs `enc` into flow.extensions (mutates and returns the flow). */
export function setEncryption(flow: Flow, enc: Partial<Omit<Encryption, '$typeName'>>): Flow {
  const message = create(EncryptionSchema, enc);
  flow.extensions = create(AnySchema, {
    typeUrl: encryptionTypeUrl,
    value: toBinary(EncryptionSchema, message),
  });
  return flow;
}

export const mechanismNames: Record<string, Mechanism> = {
  none: Mechanism.NONE,
  wireguard: Mechanism.WIREGUARD,
};

export function mechanismName(m: Mechanism): string {
  return m === Mechanism.WIREGUARD ? 'wireguard' : m === Mechanism.NONE ? 'none' : 'unspecified';
}
