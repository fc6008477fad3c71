// The lab agents' side of bench:datapath, through their local API on unix sockets: whether the
// eBPF datapath runs, detaching and re-attaching it, and the policy the agents programmed.
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { agentRequest } from '@wirescope/agent';

export function agentSocket(node: string): string {
  return `/run/wirescope-lab/${node}/agent.sock`;
}

export async function datapathAttached(): Promise<boolean> {
  try {
    const status = await agentRequest(agentSocket('node1'), 'GET', '/v1/datapath');
    return (
      status.loaded === true &&
      (status.attachments ?? []).some((a) => a.program === 'from_endpoint' && a.attached)
    );
  } catch {
    return false; // the agent is restarting or not up yet
  }
}

export async function setAttached(nodes: string[], attached: boolean): Promise<void> {
  for (const node of nodes) {
    try {
      await agentRequest(agentSocket(node), 'POST', '/v1/datapath/attach', {
        body: { attached },
        timeoutMs: 60_000, // reloading every program on a node takes a while
      });
    } catch (err) {
      throw new Error(`${node}: attach=${attached} failed: ${(err as Error).message}`);
    }
  }
  if (attached) {
    const deadline = Date.now() + 30_000;
    while (!(await datapathAttached())) {
      if (Date.now() > deadline) throw new Error('the datapath did not come back within 30 s');
      await sleep(200);
    }
  }
}

export const POLICY_FILE = `/tmp/wirescope-bench-policy-${process.pid}.yaml`;
export const DEFAULT_POLICIES = fileURLToPath(new URL('../../lab/policies/default.yaml', import.meta.url));

/** The port the lab's shop pods call the api (and api-2) on: lab/cluster.yaml. */
const LAB_API_PORT = 8080;

/**
 * 100 rules selecting the iperf3 client and server: the first egress and ingress rule allow the
 * iperf3 connection, the second the lab's own calls to the api (the frontend's, to api and api-2:
 * denied, they would leave the policy arm with less background traffic than the other arm and
 * faster, policy_ratio 1.3), the other 96 allow every shop pod on ports of their own, so both pods'
 * maps hold a few hundred entries, as a real policy set would.
 */
export function benchPolicy(port: number): string {
  const rulePort = (k: number) => (k === 0 ? port : k === 1 ? LAB_API_PORT : 20000 + k);
  const rule = (peer: string, k: number) =>
    `  - ${peer}: [${k === 0 ? `{matchLabels: {app: ${peer === 'toEndpoints' ? 'api' : 'loadgen'}}}` : '{}'}]\n` +
    `    toPorts: [{ports: [{port: "${rulePort(k)}", protocol: TCP}]}]`;
  const egress = Array.from({ length: 50 }, (_, k) => rule('toEndpoints', k));
  const ingress = Array.from({ length: 50 }, (_, k) => rule('fromEndpoints', k));
  return `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: bench-100-rules, namespace: shop}
specs:
- endpointSelector: {matchLabels: {app: loadgen}}
  enableDefaultDeny: {egress: false}
  egress:
${egress.join('\n')}
- endpointSelector: {matchLabels: {app: api}}
  ingress:
${ingress.join('\n')}
`;
}

/** Waits until node1 and node2 programmed (or dropped) the policy of the two pods. */
export async function policyProgrammed(present: boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [n1, n2] = await Promise.all(
      ['node1', 'node2'].map((n) =>
        agentRequest<{ endpoints: { endpoint: string; entries: number }[] }>(
          agentSocket(n),
          'GET',
          '/v1/policy',
        ),
      ),
    );
    const entries = (s: typeof n1, ep: string) => s?.endpoints.find((e) => e.endpoint === ep)?.entries ?? 0;
    const client = entries(n1, 'shop/loadgen');
    const server = entries(n2, 'shop/api');
    if (present ? client >= 50 && server >= 50 : client === 0 && server === 0) break;
    if (Date.now() > deadline)
      throw new Error(`policy ${present ? 'not programmed' : 'not removed'} within 20 s`);
    await sleep(200);
  }
  await sleep(500);
}
