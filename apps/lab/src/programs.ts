// Every program the lab starts and the spec it starts from, found one way: a package's export,
// resolved like an import. The agent's and the relay's ./bin, this package's own daemons (by its
// own name), the pod workloads and the default spec from @wirescope/lab-assets (the repository's
// lab/ directory). No repository path: the lab runs wherever these packages are installed.
import { fileURLToPath } from 'node:url';

const resolveExport = (specifier: string): string => fileURLToPath(import.meta.resolve(specifier));

/** The node agent (`wirescope-agent`), one per lab node. */
export const AGENT_MAIN = resolveExport('@wirescope/agent/bin');
/** The cluster relay (`wirescope-relay`), in the control-plane namespace. */
export const RELAY_MAIN = resolveExport('@wirescope/relay/bin');
/**
 * The web UI server (`wirescope-ui`). Resolved as an export like the others but not a declared
 * dependency: the UI depends on the CLI (observe's flag parser), which depends on this package.
 */
export const UI_MAIN = resolveExport('@wirescope/ui/bin');
/** Restarts the relay and its forward when one dies (supervisor-main.ts). */
export const SUPERVISOR_MAIN = resolveExport('@wirescope/lab/supervisor-main');
/** The in-namespace half of a loopback forward: unix socket -> HOST:PORT (forward-main.ts). */
export const FORWARD_MAIN = resolveExport('@wirescope/lab/forward-main');
/** The root-namespace half: 127.0.0.1:PORT -> unix socket (loopback-main.ts). */
export const LOOPBACK_MAIN = resolveExport('@wirescope/lab/loopback-main');
/** The Alertmanager webhook receiver (alert-receiver-main.ts). */
export const ALERT_RECEIVER_MAIN = resolveExport('@wirescope/lab/alert-receiver-main');
/** The spec `lab up` and `demo` use without --spec: lab/cluster.yaml. */
export const DEFAULT_SPEC = resolveExport('@wirescope/lab-assets/cluster.yaml');

/** A pod's workload program: lab/workloads/<kind>.mjs. */
export const workloadMain = (kind: string): string =>
  resolveExport(`@wirescope/lab-assets/workloads/${kind}.mjs`);
