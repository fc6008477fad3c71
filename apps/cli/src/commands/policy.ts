import { parseCommandArgs, textOrJson } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { agentRequest, type PolicyRecord, type PolicyStatusResponse } from '@wirescope/agent/client';
import { labAgents, withLabStore } from '@wirescope/lab';
import {
  PolicyError,
  loadPolicyFiles,
  parsePolicies,
  type Policy,
  type StoredPolicyLike,
} from '@wirescope/policy';
import { defaultServer } from '../observe/connect.js';
import { afterApply, formatPreview, previewFlows } from '../policy/preview.js';
import { relayFlows } from '../policy/flows.js';
import { columns } from '../policy/table.js';

const USAGE = `usage: wirescope policy apply -f FILE|DIR [-f …]
       wirescope policy list [-o text|json]
       wirescope policy get NAME [-n NAMESPACE | --clusterwide] [-o yaml|json]
       wirescope policy delete NAME [-n NAMESPACE | --clusterwide] | delete -f FILE|DIR
       wirescope policy preview -f FILE|DIR [--last N] [--follow] [--server host:port] [-o text|json]
       wirescope policy audit on|off [--endpoint NAMESPACE/POD]
       wirescope policy status [-o text|json]`;

const KIND_RESOURCE: Record<string, string> = {
  CiliumNetworkPolicy: 'ciliumnetworkpolicy.cilium.io',
  CiliumClusterwideNetworkPolicy: 'ciliumclusterwidenetworkpolicy.cilium.io',
};
const resource = (p: { kind: string; namespace: string; name: string }) =>
  `${KIND_RESOURCE[p.kind] ?? p.kind}/${p.namespace ? `${p.namespace}/` : ''}${p.name}`;

/** Policy files, refused whole with every problem's file:line (exit 1) before anything is stored. */
function load(files: string[] | undefined): Policy[] {
  if (!files || files.length === 0) throw new UsageError(`-f FILE|DIR is required; ${USAGE}`);
  return loadPolicyFiles(files);
}

function stored(records: PolicyRecord[]): StoredPolicyLike[] {
  return records.flatMap((r) => {
    try {
      return parsePolicies(r.text, r.file).map((p) => ({ ...p, revision: r.revision }));
    } catch {
      return []; // written around the CLI: the agents skip it too
    }
  });
}

function identify(name: string | undefined, namespace: string | undefined, clusterwide: boolean | undefined) {
  if (!name) throw new UsageError(`missing policy NAME; ${USAGE}`);
  if (clusterwide && namespace) throw new UsageError(`--clusterwide and -n exclude each other; ${USAGE}`);
  return clusterwide
    ? { kind: 'CiliumClusterwideNetworkPolicy', namespace: '', name }
    : { kind: 'CiliumNetworkPolicy', namespace: namespace ?? 'default', name };
}

function agentsOrFail() {
  const agents = labAgents();
  if (!agents) throw new UsageError("no lab is running; start one with 'wirescope lab up'");
  return agents;
}

export const command: Command = {
  summary: 'network policy (CiliumNetworkPolicy): apply, list, get, delete, preview, audit mode',
  async run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        filename: { type: 'string', short: 'f', multiple: true },
        namespace: { type: 'string', short: 'n' },
        clusterwide: { type: 'boolean' },
        output: { type: 'string', short: 'o' },
        endpoint: { type: 'string' },
        last: { type: 'string' },
        follow: { type: 'boolean' },
        server: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      USAGE,
    );
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const [action, arg, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"; ${USAGE}`);
    try {
      switch (action) {
        case 'apply':
          return await apply(values.filename);
        case 'list':
          return await list(textOrJson(values.output));
        case 'get':
          return await get(identify(arg, values.namespace, values.clusterwide), values.output ?? 'yaml');
        case 'delete':
          return await remove(arg, values);
        case 'preview':
          return await preview(values);
        case 'audit':
          return await audit(arg, values.endpoint);
        case 'status':
          return await status(textOrJson(values.output));
        default:
          throw new UsageError(
            action
              ? `unknown action "${action}"; accepted: apply, list, get, delete, preview, audit, status`
              : `missing action; ${USAGE}`,
          );
      }
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      console.error(`wirescope: policy refused, nothing applied:\n${err.message}`);
      return 1;
    }
  },
};

async function apply(files: string[] | undefined): Promise<number> {
  const policies = load(files);
  await withLabStore(async (store) => {
    for (const p of policies) {
      const { revision, changed } = await store.putPolicy({
        kind: p.kind,
        name: p.name,
        namespace: p.namespace,
        text: p.text,
        file: p.file,
      });
      console.log(`${resource(p)} ${changed ? 'applied' : 'unchanged'} (revision ${revision})`);
    }
  });
  return 0;
}

async function list(output: 'text' | 'json'): Promise<number> {
  const records = await withLabStore((store) => store.listPolicies());
  records.sort(
    (a, b) =>
      a.kind.localeCompare(b.kind) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
  );
  if (output === 'json') {
    console.log(
      JSON.stringify(
        records.map(({ text: _text, ...r }) => r),
        null,
        2,
      ),
    );
    return 0;
  }
  const rows = [
    ['NAMESPACE', 'NAME', 'KIND', 'REVISION', 'FILE'],
    ...records.map((r) => [r.namespace || '-', r.name, r.kind, String(r.revision), r.file]),
  ];
  for (const line of columns(rows)) console.log(line);
  return 0;
}

async function get(id: { kind: string; namespace: string; name: string }, output: string): Promise<number> {
  if (output !== 'yaml' && output !== 'json')
    throw new UsageError(`-o "${output}" is not valid; accepted: yaml, json`);
  const records = await withLabStore((store) => store.listPolicies());
  const found = records.find((r) => r.kind === id.kind && r.namespace === id.namespace && r.name === id.name);
  if (!found) {
    console.error(
      `wirescope: ${resource(id)} not found; stored: ${records.map(resource).join(', ') || 'none'}`,
    );
    return 1;
  }
  if (output === 'json') console.log(JSON.stringify(found, null, 2));
  else process.stdout.write(`# revision ${found.revision}, applied from ${found.file}\n${found.text}`);
  return 0;
}

async function remove(
  name: string | undefined,
  values: {
    filename?: string[] | undefined;
    namespace?: string | undefined;
    clusterwide?: boolean | undefined;
  },
): Promise<number> {
  if (name && values.filename) throw new UsageError(`NAME and -f exclude each other; ${USAGE}`);
  const ids = values.filename
    ? load(values.filename)
    : [identify(name, values.namespace, values.clusterwide)];
  let missing = 0;
  await withLabStore(async (store) => {
    for (const id of ids) {
      const existed = await store.deletePolicy(id.kind, id.namespace, id.name);
      if (!existed) missing++;
      console.log(`${resource(id)} ${existed ? 'deleted' : 'not found'}`);
    }
  });
  return missing > 0 ? 1 : 0;
}

async function preview(values: {
  filename?: string[] | undefined;
  last?: string | undefined;
  follow?: boolean | undefined;
  server?: string | undefined;
  output?: string | undefined;
}): Promise<number> {
  const incoming = load(values.filename).map((p) => ({ ...p, revision: 0 }));
  const output = textOrJson(values.output);
  const last = values.last === undefined ? 10_000 : Number(values.last);
  if (!Number.isInteger(last) || last < 1)
    throw new UsageError(`--last "${values.last}" is not valid; accepted: a positive integer`);
  const current = stored(await withLabStore((store) => store.listPolicies()));
  const pending = afterApply(current, incoming);
  const server = values.server ?? process.env.WIRESCOPE_SERVER ?? defaultServer;
  const print = (flows: Parameters<typeof previewFlows>[0]) => {
    const result = previewFlows(flows, current, pending);
    if (output === 'json') console.log(JSON.stringify(result));
    else for (const line of formatPreview(result)) console.log(line);
  };
  if (!values.follow) {
    print(await relayFlows({ server, timeoutMs: 5000 }, last, undefined));
    return 0;
  }
  // follow: the whole picture again whenever a new connection changes it, until Ctrl-C
  const seen: Parameters<typeof previewFlows>[0][number][] = [];
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  process.once('SIGINT', () => stop());
  let lastText = '';
  let timer: NodeJS.Timeout | undefined;
  await relayFlows({ server, timeoutMs: 5000 }, last, {
    stop: stopped,
    onFlow: (flow) => {
      seen.push(flow);
      clearTimeout(timer);
      timer = setTimeout(() => {
        const text = JSON.stringify(previewFlows(seen, current, pending));
        if (text === lastText) return;
        lastText = text;
        console.log(`--- ${new Date().toISOString()}`);
        print(seen);
      }, 500);
    },
  });
  clearTimeout(timer);
  return 0;
}

async function audit(state: string | undefined, endpoint: string | undefined): Promise<number> {
  if (state !== 'on' && state !== 'off') throw new UsageError(`audit needs on or off; ${USAGE}`);
  const enabled = state === 'on';
  let applied = 0;
  let failed = false;
  for (const agent of agentsOrFail()) {
    try {
      const r = await agentRequest(agent.socket, 'POST', '/v1/policy/audit', {
        body: endpoint ? { enabled, endpoint } : { enabled },
      });
      applied++;
      console.log(
        `${r.node}: audit mode ${r.auditMode ? 'on' : 'off'}${r.auditEndpoints.length ? `; endpoints: ${r.auditEndpoints.join(', ')}` : ''}`,
      );
    } catch (err) {
      // an endpoint lives on one node: the others answer NOT_FOUND
      if (endpoint && (err as { code?: string }).code === 'NOT_FOUND') continue;
      failed = true;
      console.error(`${agent.node}: ${(err as Error).message}`);
    }
  }
  if (endpoint && applied === 0) {
    console.error(`wirescope: endpoint "${endpoint}" is on no lab node`);
    return 1;
  }
  return failed ? 1 : 0;
}

async function status(output: 'text' | 'json'): Promise<number> {
  const results: (PolicyStatusResponse | { node: string; error: string })[] = [];
  for (const agent of agentsOrFail()) {
    try {
      results.push(await agentRequest(agent.socket, 'GET', '/v1/policy'));
    } catch (err) {
      results.push({ node: agent.node, error: (err as Error).message });
    }
  }
  if (output === 'json') console.log(JSON.stringify(results, null, 2));
  else
    for (const r of results) {
      if ('error' in r) {
        console.log(`${r.node}: unavailable: ${r.error}`);
        continue;
      }
      console.log(
        `${r.node}: revision ${r.revision}, ${r.policies.length} policies, audit mode ${r.auditMode ? 'on' : 'off'}`,
      );
      for (const e of r.endpoints) {
        const dir = (d: typeof e.ingress) =>
          d.enforced
            ? `default deny (${d.enforcedBy.join(', ')})`
            : d.active
              ? 'rules, no default deny'
              : 'open';
        console.log(
          `  ${e.endpoint}: ingress ${dir(e.ingress)}; egress ${dir(e.egress)}; ${e.entries} entries${e.audit ? '; AUDIT' : ''}${e.requireEncryption.length ? `; encryption required by ${e.requireEncryption.join(', ')}` : ''}`,
        );
      }
    }
  return results.some((r) => 'error' in r) ? 1 : 0;
}
