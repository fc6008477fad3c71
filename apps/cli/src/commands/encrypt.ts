import { parseCommandArgs, textOrJson } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { agentRequest } from '@wirescope/agent/client';
import { labAgents } from '@wirescope/lab';
import { formatEncryptStatus } from '../encrypt-format.js';
import { encryptStatusViaRelay, type EncryptResult } from './encrypt-relay.js';
import { defaultServer } from '../observe/connect.js';

const USAGE =
  'usage: wirescope encrypt status [--node NAME] [--server host:port|unix:///path | --socket PATH] [-o text|json] | wirescope encrypt rotate-key --node NAME [--socket PATH]';

/** How long `encrypt status` waits for the relay before asking the lab's agents directly. */
const RELAY_TIMEOUT_MS = 1500;

/**
 * Agent sockets to ask without the relay: an explicit one (--socket), else the local lab's agents
 * (all nodes or the named one) as @wirescope/lab knows them.
 */
function targets(node: string | undefined, socket: string | undefined): { node: string; socket: string }[] {
  if (socket) return [{ node: node ?? socket, socket }];
  const agents = labAgents();
  if (!agents)
    throw new UsageError("no lab is running and no --socket given; start one with 'wirescope lab up'");
  const names = agents.map((a) => a.node);
  if (node !== undefined && !names.includes(node))
    throw new UsageError(`--node "${node}" is not a lab node; accepted: ${names.join(', ')}`);
  return node === undefined ? agents : agents.filter((a) => a.node === node);
}

export const command: Command = {
  summary: 'WireGuard encryption status per node (like cilium encrypt status / wg show); rotate a key',
  async run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        node: { type: 'string' },
        socket: { type: 'string' },
        server: { type: 'string' },
        output: { type: 'string', short: 'o' },
        help: { type: 'boolean', short: 'h' },
      },
      USAGE,
    );
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const output = textOrJson(values.output);
    const [action, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"; ${USAGE}`);
    if (action === 'status') {
      if (values.server !== undefined && values.socket !== undefined)
        throw new UsageError(`--server and --socket exclude each other; ${USAGE}`);
      let results: EncryptResult[] = [];
      let failed = false;
      // The relay answers for the whole cluster; without it (or with --socket) ask the agents' sockets.
      const server = values.server ?? process.env.WIRESCOPE_SERVER ?? defaultServer;
      const viaRelay =
        values.socket === undefined
          ? await encryptStatusViaRelay(server, RELAY_TIMEOUT_MS).catch((err: unknown) => {
              if (values.server !== undefined) throw err;
              return undefined;
            })
          : undefined;
      if (viaRelay) {
        results = values.node === undefined ? viaRelay : viaRelay.filter((r) => r.node === values.node);
        if (values.node !== undefined && results.length === 0)
          throw new UsageError(
            `--node "${values.node}" is not a node the relay knows; accepted: ${viaRelay.map((r) => r.node).join(', ')}`,
          );
        failed = results.some((r) => 'error' in r || r.degraded !== undefined);
      } else if (values.server !== undefined) {
        throw new UsageError(
          `cannot reach the relay at ${values.server}; without --server the lab's agent sockets are asked`,
        );
      }
      for (const t of viaRelay ? [] : targets(values.node, values.socket)) {
        try {
          results.push(await agentRequest(t.socket, 'GET', '/v1/encrypt'));
        } catch (err) {
          failed = true;
          results.push({ node: t.node, error: (err as Error).message });
        }
      }
      if (output === 'json') {
        console.log(JSON.stringify(results, null, 2));
      } else {
        const blocks = results.map((r) =>
          ('error' in r ? [`${r.node}: unavailable: ${r.error}`] : formatEncryptStatus(r)).join('\n'),
        );
        if (viaRelay) console.log(`(whole cluster via the relay at ${server})\n`);
        console.log(blocks.join('\n\n'));
      }
      return failed ? 1 : 0;
    }
    if (action === 'rotate-key') {
      if (!values.node && !values.socket) throw new UsageError(`rotate-key needs --node NAME; ${USAGE}`);
      const [t] = targets(values.node, values.socket);
      if (!t) return 1;
      const result = await agentRequest(t.socket, 'POST', '/v1/encrypt/rotate-key');
      if (output === 'json') console.log(JSON.stringify(result));
      else
        console.log(
          `${result.node}: rotated WireGuard key ${result.previousPublicKey} -> ${result.publicKey}` +
            (result.published
              ? '; published, peers update within seconds'
              : '; store unreachable, will publish when it returns'),
        );
      return 0;
    }
    throw new UsageError(
      action ? `unknown action "${action}"; accepted: status, rotate-key` : `missing action; ${USAGE}`,
    );
  },
};
