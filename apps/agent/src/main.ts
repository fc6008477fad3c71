#!/usr/bin/env node
import { AGENT_USAGE, parseAgentFlags } from './config.js';
import { AgentError } from './errors.js';
import { Agent } from './agent.js';
import { EtcdClusterStore } from './store/etcd.js';

function log(message: string): void {
  console.log(`${new Date().toISOString()} ${message}`);
}

async function main(): Promise<number> {
  let config;
  try {
    config = parseAgentFlags(process.argv.slice(2));
  } catch (err) {
    if (err instanceof AgentError) {
      console.error(`wirescope-agent: ${err.message}`);
      console.error(AGENT_USAGE);
      return 2;
    }
    throw err;
  }
  if (config === 'help') {
    console.log(AGENT_USAGE);
    return 0;
  }
  const store = new EtcdClusterStore({
    endpoints: config.etcdEndpoints,
    leaseTTLSeconds: config.leaseTTLSeconds,
    log,
  });
  const agent = new Agent(config, store, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`agent: ${signal}, stopping (WireGuard device keeps running)`);
    agent.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  log(`agent: node ${config.nodeName} underlay ${config.underlayIP} pod CIDR ${config.podCIDR}`);
  await agent.start();
  log('agent: ready');
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    console.error(`wirescope-agent: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
