// Where the committed artefacts live, valid from both src/ and dist/.
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
export const dashboardsDir = fileURLToPath(new URL('grafana/dashboards/', root));
export const provisioningDir = fileURLToPath(new URL('grafana/provisioning/', root));
export const rulesDir = fileURLToPath(new URL('rules/', root));
/** The shipped Prometheus rule file (alerts and recording rules). */
export const rulesFile = fileURLToPath(new URL('rules/wirescope.rules.yml', root));
