// bench:live's metrics figures: the agents' flow metrics switched on and off (the observer hook,
// through the local API), /metrics scrape time from inside each node's namespace, series per node.
import { spawnSync } from 'node:child_process';
import { agentRequest } from '@wirescope/agent';
import type { LabNode } from './lab.js';

const METRICS_PORT = 9965;
/** The node's network namespace in the lab (the default spec's names need no shortening). */
const nodeNamespace = (node: LabNode) => `wsl-${node.name}`;

export async function setFlowMetrics(nodes: LabNode[], enabled: boolean): Promise<void> {
  for (const node of nodes) {
    const reply = await agentRequest(node.agentSocket, 'POST', '/v1/metrics/flows', {
      body: { enabled },
    });
    if (reply.enabled !== enabled)
      throw new Error(`${node.name}: flow metrics still ${reply.enabled ? 'on' : 'off'}`);
  }
}

function scrapeOnce(node: LabNode): { seconds: number; body: string } {
  const res = spawnSync(
    'ip',
    [
      'netns',
      'exec',
      nodeNamespace(node),
      'curl',
      '-s',
      '-m',
      '5',
      '-w',
      '\n%{time_total}',
      `http://127.0.0.1:${METRICS_PORT}/metrics`,
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (res.status !== 0) throw new Error(`${node.name}: curl /metrics exited ${res.status}: ${res.stderr}`);
  const cut = res.stdout.lastIndexOf('\n');
  return { seconds: Number(res.stdout.slice(cut + 1)), body: res.stdout.slice(0, cut) };
}

export interface ScrapeFigures {
  p50Ms: number;
  p90Ms: number;
  seriesPerNode: Record<string, number>;
}

/** `rounds` scrapes of every agent (curl's time_total: request to last byte), and its series. */
export function measureScrapes(nodes: LabNode[], rounds = 30): ScrapeFigures {
  const times: number[] = [];
  const seriesPerNode: Record<string, number> = {};
  for (let i = 0; i < rounds; i++) {
    for (const node of nodes) {
      const { seconds, body } = scrapeOnce(node);
      times.push(seconds * 1000);
      seriesPerNode[node.name] = body.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    }
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  return { p50Ms: at(0.5), p90Ms: at(0.9), seriesPerNode };
}
