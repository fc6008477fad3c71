import { pipeline, Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { toJson, type JsonObject } from '@bufbuild/protobuf';
import { FlowSchema, HandshakeEventSchema, registry, type Flow, type HandshakeEvent } from '@wirescope/flow';
import { AgentError, AgentErrorCode } from '../errors.js';
import type { LazyFlow, ObservedItem, ObserverCounters } from '../flows/observer.js';
import { ERROR_RESPONSES } from './errors.js';
import { FollowStream } from './follow-stream.js';

/** The agent's flow observer as these routes use it (FlowObserver; a test double in unit tests). */
export interface FlowFeed {
  readonly flows: { last(n: number): Flow[]; lastLazy(n: number): readonly LazyFlow[] };
  counters(): ObserverCounters;
  lastHandshakes(n: number): HandshakeEvent[];
  subscribe(fn: (item: ObservedItem) => void): () => void;
}

export interface FlowSource {
  /** Undefined when the agent runs without the eBPF datapath. */
  observer(): FlowFeed | undefined;
}

// A string checked by pattern, not a coerced number: exactly what the hand-rolled API accepted
// ("1e3" or "0x10" are refused). The default fills `last` in, so handlers read it as given.
const lastQuery = (fallback: number) =>
  Type.Object({
    last: Type.Optional(
      Type.String({
        pattern: '^\\d{1,7}$',
        description: 'an integer from 0 to 9999999',
        default: String(fallback),
      }),
    ),
  });
export const FlowsQuerySchema = lastQuery(20);
export const HandshakesQuerySchema = lastQuery(100);
export const FollowQuerySchema = lastQuery(0);
export type LastQuery = Static<typeof FlowsQuerySchema>;

/** A Hubble Flow in proto JSON (flow.proto's field names); its shape is flow.proto's, not restated here. */
export const FlowJsonSchema = Type.Unsafe<JsonObject>({ description: 'flow.Flow in proto JSON' });
/** A Wirescope HandshakeEvent in proto JSON (wirescope.proto's field names). */
export const HandshakeJsonSchema = Type.Unsafe<JsonObject>({
  description: 'wirescope HandshakeEvent in proto JSON',
});

export const ObserverCountersSchema = Type.Object({
  flowsSeen: Type.Number(),
  flowsInRing: Type.Number(),
  capacity: Type.Number(),
  handshakesSeen: Type.Number(),
  lost: Type.Number({ description: 'undecodable records plus kernel ring-buffer reservation failures' }),
  decoded: Type.Number(),
  undecodable: Type.Number(),
  kernelLost: Type.Number(),
  benignKernelDrops: Type.Number(),
});

export const FlowsResponseSchema = Type.Object({
  flows: Type.Array(Type.Object({ flow: FlowJsonSchema })),
  counters: ObserverCountersSchema,
});
export type FlowsResponse = Static<typeof FlowsResponseSchema>;

export const HandshakesResponseSchema = Type.Object({
  handshakes: Type.Array(Type.Object({ handshake: HandshakeJsonSchema })),
});
export type HandshakesResponse = Static<typeof HandshakesResponseSchema>;

/** One line of GET /v1/flows/follow (NDJSON). `lost_events` says how many a slow reader missed. */
export type FollowLine =
  | { flow: JsonObject }
  | { handshake: JsonObject }
  | { lost_events: { source: 'AGENT_FOLLOW_QUEUE'; num_events_lost: number } };

// A message's JSON is always an object; toJson's return type only says JsonValue.
const flowJson = (flow: Flow): JsonObject =>
  toJson(FlowSchema, flow, { registry, useProtoFieldName: true }) as JsonObject;
const handshakeJson = (handshake: HandshakeEvent): JsonObject =>
  toJson(HandshakeEventSchema, handshake, { useProtoFieldName: true }) as JsonObject;

export function itemJson(item: ObservedItem): FollowLine {
  return item.kind === 'flow' ? { flow: flowJson(item.flow) } : { handshake: handshakeJson(item.handshake) };
}

const lostEventsLine = (count: number): FollowLine => ({
  lost_events: { source: 'AGENT_FOLLOW_QUEUE', num_events_lost: count },
});

/** Flows serialized per turn of the event loop by GET /v1/flows (see flowsBody). */
export const FLOWS_JSON_CHUNK = 256;

/**
 * A FlowsResponse body, FLOWS_JSON_CHUNK flows at a time, yielding the event loop between chunks
 * and pulled by the socket: serialized in one go, ?last=65535 (62 MB of JSON) kept the agent's
 * loop busy for 6 s, in which it read no kernel events and answered neither the relay nor health
 * checks.
 */
async function* flowsBody(flows: readonly LazyFlow[], counters: ObserverCounters): AsyncGenerator<string> {
  yield '{"flows":[';
  for (let start = 0; start < flows.length; start += FLOWS_JSON_CHUNK) {
    if (start > 0) await setImmediate();
    const lines: string[] = [];
    for (const entry of flows.slice(start, start + FLOWS_JSON_CHUNK))
      lines.push(JSON.stringify({ flow: flowJson(entry.flow) }));
    yield (start > 0 ? ',' : '') + lines.join(',');
  }
  yield `],"counters":${JSON.stringify(counters)}}`;
}

function requireObserver(source: FlowSource): FlowFeed {
  const observer = source.observer();
  if (!observer)
    throw new AgentError(AgentErrorCode.NOT_FOUND, 'the eBPF datapath is off on this agent (--datapath off)');
  return observer;
}

/** GET /v1/flows?last=N (JSON), /v1/flows/follow?last=N (NDJSON stream), /v1/handshakes?last=N */
export const flowsPlugin: FastifyPluginAsyncTypebox<{ source: FlowSource }> = async (app, { source }) => {
  app.get(
    '/v1/flows',
    { schema: { querystring: FlowsQuerySchema, response: { 200: FlowsResponseSchema, ...ERROR_RESPONSES } } },
    (request, reply) => {
      const observer = requireObserver(source);
      const flows = observer.flows.lastLazy(Number(request.query.last));
      // streamed past the schema's serializer: the body is a FlowsResponse all the same
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      pipeline(Readable.from(flowsBody(flows, observer.counters())), reply.raw, () => undefined);
    },
  );

  app.get(
    '/v1/handshakes',
    {
      schema: {
        querystring: HandshakesQuerySchema,
        response: { 200: HandshakesResponseSchema, ...ERROR_RESPONSES },
      },
    },
    (request) => {
      const observer = requireObserver(source);
      return {
        handshakes: observer
          .lastHandshakes(Number(request.query.last))
          .map((handshake) => ({ handshake: handshakeJson(handshake) })),
      };
    },
  );

  app.get(
    '/v1/flows/follow',
    { schema: { querystring: FollowQuerySchema, response: ERROR_RESPONSES } },
    (request, reply) => {
      const observer = requireObserver(source);
      const stream = new FollowStream({
        backlog: observer.flows.lastLazy(Number(request.query.last)),
        subscribe: (fn) => observer.subscribe(fn),
        line: (item) => JSON.stringify(itemJson(item)),
        lostLine: (count) => JSON.stringify(lostEventsLine(count)),
      });
      // Headers go out now, not with the first flow: a follower learns at once that it is connected.
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson' });
      reply.raw.flushHeaders();
      // pipeline waits on the socket's drain (backpressure) and destroys the stream, which
      // unsubscribes, when the client goes away or the server closes.
      pipeline(stream, reply.raw, () => undefined);
    },
  );
};
