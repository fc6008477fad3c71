import { toJson } from '@bufbuild/protobuf';
import { FlowSchema, HandshakeEventSchema, registry } from '@wirescope/flow';
import { AgentError, AgentErrorCode } from '../errors.js';
import type { FlowObserver, ObservedItem } from '../flows/observer.js';
import type { Route } from './app.js';

export interface FlowSource {
  observer(): FlowObserver | undefined;
  datapathStatus(): unknown;
  flowCounters(): unknown;
  setStrictEncryption(enabled: boolean): unknown;
  setDatapathAttached(attached: boolean): Promise<unknown>;
}

function lastParam(query: URLSearchParams, fallback: number): number {
  const raw = query.get('last');
  if (raw === null) return fallback;
  if (!/^\d{1,7}$/.test(raw))
    throw new AgentError(
      AgentErrorCode.BAD_REQUEST,
      `last "${raw}" is not valid; accepted: an integer from 0 to 9999999`,
    );
  return Number(raw);
}

function requireObserver(source: FlowSource): FlowObserver {
  const observer = source.observer();
  if (!observer)
    throw new AgentError(AgentErrorCode.NOT_FOUND, 'the eBPF datapath is off on this agent (--datapath off)');
  return observer;
}

export function itemJson(item: ObservedItem): unknown {
  return item.kind === 'flow'
    ? { flow: toJson(FlowSchema, item.flow, { registry, useProtoFieldName: true }) }
    : { handshake: toJson(HandshakeEventSchema, item.handshake, { useProtoFieldName: true }) };
}

/** GET /v1/flows?last=N (JSON), /v1/flows/follow (NDJSON stream), /v1/handshakes, /v1/datapath. */
export function flowRoutes(source: FlowSource): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/flows',
      handle: async (_body, query) => {
        const observer = requireObserver(source);
        const flows = observer.flows.last(lastParam(query, 20));
        return {
          flows: flows.map((flow) => itemJson({ kind: 'flow', flow })),
          counters: observer.counters(),
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/handshakes',
      handle: async (_body, query) => {
        const observer = requireObserver(source);
        const list = observer.lastHandshakes(lastParam(query, 100));
        return { handshakes: list.map((handshake) => itemJson({ kind: 'handshake', handshake })) };
      },
    },
    {
      method: 'GET',
      path: '/v1/flows/follow',
      handle: () => Promise.reject(new AgentError(AgentErrorCode.BAD_REQUEST, 'follow is a stream')),
      stream: (query, req, res) => {
        let observer: FlowObserver;
        let last: number;
        try {
          observer = requireObserver(source);
          last = lastParam(query, 0);
        } catch (err) {
          const code = err instanceof AgentError ? err.code : AgentErrorCode.BAD_REQUEST;
          res.writeHead(code === AgentErrorCode.NOT_FOUND ? 404 : 400, {
            'content-type': 'application/json',
          });
          res.end(`${JSON.stringify({ error: { code, message: (err as Error).message } })}\n`);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        for (const flow of observer.flows.last(last))
          res.write(`${JSON.stringify(itemJson({ kind: 'flow', flow }))}\n`);
        const unsubscribe = observer.subscribe((item) => res.write(`${JSON.stringify(itemJson(item))}\n`));
        req.on('close', unsubscribe);
        res.on('close', unsubscribe);
      },
    },
    { method: 'GET', path: '/v1/datapath', handle: async () => source.datapathStatus() },
    {
      method: 'POST',
      path: '/v1/datapath/strict',
      handle: async (body) => {
        const enabled = (body as { enabled?: unknown } | undefined)?.enabled;
        if (typeof enabled !== 'boolean')
          throw new AgentError(AgentErrorCode.BAD_REQUEST, 'body must be {"enabled": true|false}');
        return source.setStrictEncryption(enabled);
      },
    },
    {
      method: 'POST',
      path: '/v1/datapath/attach',
      handle: async (body) => {
        const attached = (body as { attached?: unknown } | undefined)?.attached;
        if (typeof attached !== 'boolean')
          throw new AgentError(AgentErrorCode.BAD_REQUEST, 'body must be {"attached": true|false}');
        return source.setDatapathAttached(attached);
      },
    },
    { method: 'GET', path: '/v1/datapath/flow-counters', handle: async () => source.flowCounters() },
  ];
}
