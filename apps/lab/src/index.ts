// @wirescope/lab: the network-namespace lab cluster. What the CLI's `lab`, `demo` and `encrypt`
// commands (and the end-to-end tests) use; everything else stays inside the package.
export { LabError } from './errors.js';
export {
  loadSpec,
  parseSpec,
  SpecError,
  type LabSpec,
  type NodeSpec,
  type LabPolicy,
  type PodSpec,
  type Workload,
} from './spec.js';
export { DEFAULT_SPEC } from './programs.js';
export { preflightProblems } from './preflight.js';
export { labUp, type UpResult } from './up.js';
export { labDown, labNamespaces, type DownResult, type Progress } from './down.js';
export { startComponent, stopComponent } from './components.js';
export { labStatus, type LabStatus, type LabStatusReport, type LabStatusDetails } from './status.js';
export type { NodeReport, PodReport, RelayReport, Supervision } from './status.js';
export { labAgents, type LabAgent } from './agents.js';
export {
  forwardIntoNamespace,
  listenLoopback,
  type LoopbackForward,
  type NamespaceForward,
} from './forward.js';
export { restartSummary } from './supervisor.js';
export type { DaemonRecord, LabState } from './state.js';
export { ALERTS_FILE, LOG_DIR, PREFIX, RELAY_SOCKET, etcdForwardSocket } from './names.js';
export {
  ALERTMANAGER_URL,
  LAB_ALERT_FOR,
  LAB_SCRAPE_SECONDS,
  PROMETHEUS_URL,
  prometheusTargets,
  type TargetHealth,
} from './monitoring.js';
export { withLabStore } from './store.js';
