// The agent's flow pipeline alone (@wirescope/agent/flows): decode -> enrich -> the node's one
// observer, for benchmarks and tools that feed it ring-buffer records without a datapath.
export { FlowObserver, BENIGN_KERNEL_DROPS, type ObservedItem, type ObserverCounters } from './observer.js';
export { FlowDecoder, type DatapathEvent } from './decode.js';
export {
  traceToFlow,
  dropToFlow,
  traceToRecord,
  dropToRecord,
  type EnrichContext,
  type EndpointInfo,
  type NodeInfo,
} from './enrich.js';
