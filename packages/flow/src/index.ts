export * from './gen/flow/flow_pb.js';
export * from './gen/observer/observer_pb.js';
export {
  ChangeNotificationSchema,
  ChangeNotificationTypeSchema,
  ChangeNotificationType,
  NotifyRequestSchema,
  Peer,
  TLSSchema as PeerTLSSchema,
  file_peer_peer,
  type ChangeNotification,
  type NotifyRequest,
  type TLS as PeerTLS,
} from './gen/peer/peer_pb.js';
export * from './gen/relay/relay_pb.js';
export * from './gen/wirescope/v1/wirescope_pb.js';
export * from './names.js';
export * from './wire.js';
export * from './labels.js';
export * from './filter.js';
export type { RecordPredicate } from './record-filter.js';
export * from './encryption.js';
export * from './printer.js';
export * from './summary.js';
export * from './fixtures.js';
export * from './compiled-encoder.js';
export * from './factory.js';
export * from './record.js';
export * from './record-writer.js';
