// @wirescope/ui: the UI server (buildApp over a relay) and its typed responses, the contract the
// SPA's api/ layer reads.
export { buildApp, type UiAppOptions } from './app.js';
export { RelayClient, type RelayApi, type RelayOptions } from './relay-client.js';
export { UiError, uiErrorCodes, type UiErrorCode } from './errors.js';
export { LiveHub, defaultLiveLimits, type FlowBatch, type LiveLimits } from './live-hub.js';
export type { StatusResponse, NodeInfo } from './plugins/status.js';
export type { NamespacesResponse } from './plugins/namespaces.js';
export type { FlowsResponse, FlowResponse, FlowJson } from './plugins/flows.js';
export type { EncryptionResponse, NodeEncryption, PeerEncryption, Handshake } from './plugins/encryption.js';
export type { ClientToServer, ServerToClient, SubscribeAck, SubscribeRequest } from './plugins/live.js';
export { PrometheusClient, type PrometheusApi, type RangeSeries } from './prometheus.js';
export type { ChartResponse } from './plugins/metrics.js';
