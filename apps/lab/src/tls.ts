// The lab's PKI: one CA, a server certificate per agent (its underlay IP), the relay's server and
// client certificates, and a certificate for the CLI. Keys are 0600 and go away with `lab down`.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTROL_PLANE_ADDRESS, type LabSpec } from './spec.js';
import { TLS_DIR, agentDaemon, fitName } from './names.js';
import { run } from './shell.js';

export interface CertPair {
  cert: string;
  key: string;
}

export interface LabPki {
  ca: string;
  agents: Record<string, CertPair>;
  relayServer: CertPair;
  relayClient: CertPair;
  cli: CertPair;
  /** The web UI's client certificate for the relay. */
  ui: CertPair;
}

/** The name the relay's server certificate carries (hubble-relay's, so stock clients can verify it). */
export const RELAY_SERVER_NAME = 'hubble-relay.wirescope-lab';
const AGENT_SERVER_DOMAIN = '.hubble-grpc.wirescope-lab';
/** openssl refuses a longer certificate common name (X.509's ub-common-name). */
const MAX_COMMON_NAME = 64;
/**
 * Like Cilium's <node>.<cluster>.hubble-grpc.cilium.io: the node name with its dots made dashes as
 * one DNS label, shortened (fitName) so that the whole name still fits a certificate's CN.
 */
export const agentServerName = (node: string): string =>
  `${fitName('', node.replaceAll('.', '-'), MAX_COMMON_NAME - AGENT_SERVER_DOMAIN.length)}${AGENT_SERVER_DOMAIN}`;

const pairIn = (dir: string, name: string): CertPair => ({
  cert: join(dir, `${name}.crt`),
  key: join(dir, `${name}.key`),
});

/** Where every file lives, whether or not it was created yet. */
export function labPkiPaths(spec: Pick<LabSpec, 'nodes'>, dir = TLS_DIR): LabPki {
  return {
    ca: join(dir, 'ca.crt'),
    agents: Object.fromEntries(spec.nodes.map((n) => [n.name, pairIn(dir, agentDaemon(n.name))])),
    relayServer: pairIn(dir, 'relay-server'),
    relayClient: pairIn(dir, 'relay-client'),
    cli: pairIn(dir, 'cli-client'),
    ui: pairIn(dir, 'ui-client'),
  };
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function issue(dir: string, pair: CertPair, subject: string, extensions: string[]): Promise<void> {
  const csr = `${pair.cert}.csr`;
  const ext = `${pair.cert}.ext`;
  await run('openssl', ['req', ...ecKey, '-subj', `/CN=${subject}`, '-keyout', pair.key, '-out', csr]);
  writeFileSync(ext, `${extensions.join('\n')}\n`);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    join(dir, 'ca.crt'),
    '-CAkey',
    join(dir, 'ca.key'),
    '-CAcreateserial',
    '-days',
    '30',
    '-out',
    pair.cert,
    '-extfile',
    ext,
  ]);
  chmodSync(pair.key, 0o600);
  rmSync(csr, { force: true });
  rmSync(ext, { force: true });
}

/** Creates the CA and every certificate with openssl (EC P-256: a few milliseconds each). */
export async function createLabPki(spec: Pick<LabSpec, 'nodes'>, dir = TLS_DIR): Promise<LabPki> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pki = labPkiPaths(spec, dir);
  await run('openssl', [
    'req',
    '-x509',
    ...ecKey,
    '-days',
    '30',
    '-subj',
    '/CN=wirescope-lab-ca',
    '-keyout',
    join(dir, 'ca.key'),
    '-out',
    pki.ca,
  ]);
  chmodSync(join(dir, 'ca.key'), 0o600);
  const server = 'extendedKeyUsage=serverAuth';
  const client = 'extendedKeyUsage=clientAuth';
  for (const node of spec.nodes) {
    await issue(dir, pki.agents[node.name] as CertPair, agentServerName(node.name), [
      `subjectAltName=DNS:${agentServerName(node.name)},IP:${node.address}`,
      server,
    ]);
  }
  await issue(dir, pki.relayServer, RELAY_SERVER_NAME, [
    `subjectAltName=DNS:${RELAY_SERVER_NAME},DNS:hubble-relay,DNS:localhost,IP:${CONTROL_PLANE_ADDRESS},IP:127.0.0.1`,
    server,
  ]);
  await issue(dir, pki.relayClient, 'wirescope-relay', [client]);
  await issue(dir, pki.cli, 'wirescope-cli', [client]);
  await issue(dir, pki.ui, 'wirescope-ui', [client]);
  return pki;
}
