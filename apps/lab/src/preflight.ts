import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_MAIN, RELAY_MAIN } from './programs.js';

const REQUIRED_PROGRAMS = ['ip', 'etcd', 'etcdctl', 'wg', 'wireguard-go', 'sysctl', 'openssl'];

/** What keeps the lab from starting on this machine (not root, missing programs); empty when fine. */
export async function preflightProblems(): Promise<string[]> {
  const problems: string[] = [];
  if (process.getuid?.() !== 0)
    problems.push('must run as root (network namespaces): sudo npx wirescope lab up');
  const missing: string[] = [];
  for (const program of REQUIRED_PROGRAMS) {
    const found = (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')
      .split(':')
      .some((dir) => existsSync(join(dir, program)));
    if (!found) missing.push(program);
  }
  if (missing.length > 0)
    problems.push(`missing programs: ${missing.join(', ')}; install them with: bash scripts/setup.sh`);
  if (!existsSync(AGENT_MAIN)) problems.push(`agent not built (${AGENT_MAIN}); run: npx turbo run build`);
  if (!existsSync(RELAY_MAIN)) problems.push(`relay not built (${RELAY_MAIN}); run: npx turbo run build`);
  return problems;
}
