// The relay's public gRPC API as the UI server uses it: Observer (flows, nodes, namespaces,
// status) and Wirescope (encryption status, handshakes). Never the agents directly.
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import {
  GetFlowsRequestSchema,
  GetFlowsResponseSchema,
  type EncryptionStatusResponse,
  type GetFlowsRequest,
  type GetFlowsResponse,
  type GetHandshakesResponse,
  type GetNodesResponse,
  type ServerStatusResponse,
} from '@wirescope/flow';
import {
  clientChannelOptions,
  clientCredentials,
  makeClient,
  methods,
  RawServerStream,
  serverStream,
  unary,
  type ClientTlsFiles,
} from '@wirescope/observer';
import { UiError } from './errors.js';
import { flowJsonFromBytes, flowRowFromBytes, type FlowJson } from './flow-json.js';

export interface RelayOptions {
  /** host:port or unix:///path (the lab's relay: 127.0.0.1:4245 through its loopback forward). */
  address: string;
  tls?: ClientTlsFiles | undefined;
  /** Deadline of unary calls. */
  timeoutMs?: number;
}

/** A follow stream; `cancel` ends it (and the relay call). */
export interface FlowFollow {
  cancel(): void;
}

export interface FollowHandlers {
  /** Node status, lost events (and flows, from a relay that decodes them). */
  onResponse(response: GetFlowsResponse): void;
  /** A flow as its live row's JSON text, read straight from the response's bytes. */
  onFlowRow?(row: string): void;
  /** The stream ended: by cancel (no error), or with the relay's error. */
  onEnd(error?: UiError): void;
}

/** What the plugins need from the relay; tests may point it at any Observer server. */
export interface RelayApi {
  readonly address: string;
  status(): Promise<ServerStatusResponse>;
  nodes(): Promise<GetNodesResponse>;
  namespaces(): Promise<{ cluster: string; namespace: string }[]>;
  /** A bounded (non-follow) GetFlows, collected as Hubble's JSON; at most `limit` kept, newest last. */
  flows(request: GetFlowsRequest, limit: number): Promise<FlowJson[]>;
  follow(request: GetFlowsRequest, handlers: FollowHandlers): FlowFollow;
  encryptionStatus(): Promise<EncryptionStatusResponse>;
  /** The latest handshakes the relay's agents keep, per node. */
  handshakes(number: number): Promise<GetHandshakesResponse[]>;
  close(): void;
}

function relayError(err: unknown, what: string): UiError {
  const e = err as grpc.ServiceError;
  if (e.code === grpc.status.INVALID_ARGUMENT) return new UiError('INVALID_FILTER', e.details);
  return new UiError('RELAY_UNAVAILABLE', `relay ${what}: ${e.details || e.message || String(err)}`);
}

export class RelayClient implements RelayApi {
  private readonly client: grpc.Client;
  private readonly timeoutMs: number;
  readonly address: string;

  constructor(opts: RelayOptions) {
    this.address = opts.address;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    try {
      this.client = makeClient(opts.address, clientCredentials(opts.tls), {
        ...clientChannelOptions(opts.tls),
        'grpc-node.flow_control_window': 1024 * 1024,
        'grpc.max_receive_message_length': 16 * 1024 * 1024,
      });
    } catch (err) {
      throw new UiError('CONFIG', (err as Error).message);
    }
  }

  private async call<T>(what: string, run: (deadlineMs: number) => Promise<T>): Promise<T> {
    try {
      return await run(this.timeoutMs);
    } catch (err) {
      throw relayError(err, what);
    }
  }

  status(): Promise<ServerStatusResponse> {
    return this.call('ServerStatus', (deadlineMs) =>
      unary(this.client, methods.observer.serverStatus, {}, { deadlineMs }),
    );
  }

  nodes(): Promise<GetNodesResponse> {
    return this.call('GetNodes', (deadlineMs) =>
      unary(this.client, methods.observer.getNodes, {}, { deadlineMs }),
    );
  }

  async namespaces(): Promise<{ cluster: string; namespace: string }[]> {
    const res = await this.call('GetNamespaces', (deadlineMs) =>
      unary(this.client, methods.observer.getNamespaces, {}, { deadlineMs }),
    );
    return res.namespaces.map((n) => ({ cluster: n.cluster, namespace: n.namespace }));
  }

  encryptionStatus(): Promise<EncryptionStatusResponse> {
    return this.call('EncryptionStatus', (deadlineMs) =>
      unary(this.client, methods.wirescope.encryptionStatus, {}, { deadlineMs }),
    );
  }

  handshakes(number: number): Promise<GetHandshakesResponse[]> {
    return this.collect('GetHandshakes', (callOptions) =>
      serverStream(this.client, methods.wirescope.getHandshakes, { number: BigInt(number) }, { callOptions }),
    );
  }

  flows(request: GetFlowsRequest, limit: number): Promise<FlowJson[]> {
    const bounded = create(GetFlowsRequestSchema, { ...request, follow: false });
    // raw responses: only the flows kept are turned into JSON, straight from their bytes
    return new Promise((resolve, reject) => {
      const kept: Uint8Array[] = [];
      const timer = setTimeout(() => {
        stream.cancel();
        reject(new UiError('RELAY_UNAVAILABLE', `relay GetFlows: no answer within ${this.timeoutMs * 4} ms`));
      }, this.timeoutMs * 4);
      const stream = new RawServerStream(
        this.client,
        methods.observer.getFlows.path,
        toBinary(GetFlowsRequestSchema, bounded),
        {
          onMessage: (bytes) => {
            const flow = flowField(bytes);
            if (!flow) return;
            kept.push(flow);
            // the newest `limit`: drop the oldest in chunks, not one shift per flow
            if (kept.length >= limit * 2) kept.splice(0, kept.length - limit);
          },
          onStatus: (code, details) => {
            clearTimeout(timer);
            if (code !== grpc.status.OK)
              reject(relayError({ code, details, message: details } as grpc.ServiceError, 'GetFlows'));
            else resolve(kept.slice(Math.max(0, kept.length - limit)).map(flowJsonFromBytes));
          },
        },
      );
    });
  }

  private collect<T>(
    what: string,
    open: (callOptions: grpc.CallOptions) => grpc.ClientReadableStream<T>,
  ): Promise<T[]> {
    return new Promise((resolve, reject) => {
      const out: T[] = [];
      const call = open({ deadline: Date.now() + this.timeoutMs * 4 });
      call.on('data', (r: T) => out.push(r));
      call.on('error', (err) => reject(relayError(err, what)));
      call.on('end', () => resolve(out));
    });
  }

  follow(request: GetFlowsRequest, handlers: FollowHandlers): FlowFollow {
    let cancelled = false;
    let ended = false;
    const end = (error?: UiError) => {
      if (ended) return;
      ended = true;
      handlers.onEnd(error);
    };
    // raw responses: a flow becomes its row without being decoded into a message first
    const stream = new RawServerStream(
      this.client,
      methods.observer.getFlows.path,
      toBinary(GetFlowsRequestSchema, create(GetFlowsRequestSchema, request)),
      {
        onMessage: (bytes) => {
          const flow = handlers.onFlowRow ? flowField(bytes) : undefined;
          if (flow) handlers.onFlowRow!(flowRowFromBytes(flow));
          else handlers.onResponse(fromBinary(GetFlowsResponseSchema, bytes));
        },
        onStatus: (code, details) => {
          if (code === grpc.status.OK || (cancelled && code === grpc.status.CANCELLED)) end();
          else end(relayError({ code, details, message: details } as grpc.ServiceError, 'GetFlows'));
        },
      },
    );
    return {
      cancel: () => {
        cancelled = true;
        stream.cancel();
      },
    };
  }

  close(): void {
    this.client.close();
  }
}

/** The bytes of a GetFlowsResponse's `flow` (field 1), when it is a flow. */
function flowField(bytes: Uint8Array): Uint8Array | undefined {
  const r = new BinaryReader(bytes);
  let flow: Uint8Array | undefined;
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1 && wt === WireType.LengthDelimited) flow = r.bytes();
    else r.skip(wt, no);
  }
  return flow;
}
