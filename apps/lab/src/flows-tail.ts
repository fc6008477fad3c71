import { request, type ClientRequest } from 'node:http';
import { create, fromJson } from '@bufbuild/protobuf';
import { FlowPrinter, FlowSchema, GetFlowsResponseSchema, registry } from '@wirescope/flow';
import { onLines, type FollowLine } from '@wirescope/agent/client';
import { agentSocket } from './names.js';

/**
 * Follows every lab agent's live flow stream (GET /v1/flows/follow on its unix socket) and prints
 * hubble-style compact lines with the node name and the encryption state. Reconnects while an
 * agent restarts. Returns a stop function.
 */
export function followLabFlows(nodes: string[], out: (line: string) => void, color = false): () => void {
  const printer = new FlowPrinter({ format: 'compact', nodeName: true, color, out });
  let stopped = false;
  const requests = new Set<ClientRequest>();
  const timers = new Set<NodeJS.Timeout>();

  const connect = (node: string): void => {
    if (stopped) return;
    const req = request({ socketPath: agentSocket(node), path: '/v1/flows/follow?last=0' }, (res) => {
      onLines(res, (line) => printLine(node, line));
      res.on('end', () => retry(node));
    });
    req.on('error', () => retry(node));
    requests.add(req);
    req.end();
  };
  const retry = (node: string): void => {
    if (stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      connect(node);
    }, 2000);
    timers.add(timer);
  };
  const printLine = (node: string, line: string): void => {
    let parsed: FollowLine;
    try {
      parsed = JSON.parse(line) as FollowLine;
    } catch {
      return;
    }
    if (!('flow' in parsed)) return; // handshakes and lost_events are not printed here
    try {
      const flow = fromJson(FlowSchema, parsed.flow, { registry, ignoreUnknownFields: true });
      printer.write(
        create(GetFlowsResponseSchema, { responseTypes: { case: 'flow', value: flow }, nodeName: node }),
      );
    } catch {
      // a flow this CLI cannot parse is skipped, not fatal
    }
  };
  for (const node of nodes) connect(node);
  return () => {
    stopped = true;
    for (const t of timers) clearTimeout(t);
    for (const r of requests) r.destroy();
  };
}
