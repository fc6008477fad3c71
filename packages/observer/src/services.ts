// gRPC method definitions for grpc-js built once from the generated protobuf-es service
// descriptors, typed by them: a call's request and response types follow from the method it names.
// Streams that carry flows can use raw codecs so the relay passes bytes through untouched.
import * as grpc from '@grpc/grpc-js';
import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type DescMethod,
  type DescService,
  type MessageInitShape,
  type MessageShape,
} from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { Observer, Peer, Wirescope } from '@wirescope/flow';

type Codec<T> = { serialize: (value: T) => Buffer; deserialize: (bytes: Buffer) => T };

export function messageCodec<D extends DescMessage>(schema: D): Codec<MessageShape<D>> {
  return {
    serialize: (value) => {
      const bytes = toBinary(schema, value);
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    deserialize: (bytes) => fromBinary(schema, bytes),
  };
}

/** Bytes in, bytes out: the message is already encoded (or will be read lazily). */
export const rawCodec: Codec<Uint8Array> = {
  serialize: (value) =>
    Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength),
  deserialize: (bytes) => bytes,
};

export type MethodKind = DescMethod['methodKind'];

/**
 * One RPC as grpc-js takes it (path, serializers), with the request schema and kind kept so that
 * `unary`/`serverStream` and server handlers infer their types from it. `Response` is the decoded
 * message, or `Uint8Array` for the raw-response variant.
 */
export interface RpcMethod<
  Input extends DescMessage,
  Response,
  Kind extends MethodKind,
> extends grpc.MethodDefinition<MessageShape<Input>, Response> {
  readonly methodKind: Kind;
  /** The request's schema: calls take its init shape and create() the message from it. */
  readonly input: Input;
}

// RpcMethod is invariant in its request and response (they are both serialized and parsed), so
// "any method" can only be spelled with `any`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRpcMethod = RpcMethod<any, any, MethodKind>;

/** The methods of one generated service, keyed by their local (camelCase) names. */
export type RpcMethods<Methods extends GenServiceMethods> = {
  readonly [Name in keyof Methods]: RpcMethod<
    Methods[Name]['input'],
    MessageShape<Methods[Name]['output']>,
    Methods[Name]['methodKind']
  >;
};

function rpcMethod(service: DescService, method: DescMethod): AnyRpcMethod {
  const request = messageCodec(method.input);
  const response = messageCodec(method.output);
  return {
    path: `/${service.typeName}/${method.name}`,
    requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
    responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
    requestSerialize: request.serialize,
    requestDeserialize: request.deserialize,
    responseSerialize: response.serialize,
    responseDeserialize: response.deserialize,
    originalName: method.localName,
    methodKind: method.methodKind,
    input: method.input,
  };
}

/** Builds every method of a generated service once. */
export function rpcMethods<Methods extends GenServiceMethods>(
  service: GenService<Methods>,
): RpcMethods<Methods> {
  const built: Record<string, AnyRpcMethod> = {};
  for (const method of service.methods) built[method.localName] = rpcMethod(service, method);
  return built as RpcMethods<Methods>;
}

/** The same method with its responses left as encoded bytes on both ends. */
export function withRawResponses<Input extends DescMessage, Kind extends MethodKind>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any decoded response type
  method: RpcMethod<Input, any, Kind>,
): RpcMethod<Input, Uint8Array, Kind> {
  return { ...method, responseSerialize: rawCodec.serialize, responseDeserialize: rawCodec.deserialize };
}

/** Every RPC Wirescope serves or calls: `methods.observer.serverStatus`, `methods.peer.notify`, … */
export const methods = {
  observer: rpcMethods(Observer),
  peer: rpcMethods(Peer),
  wirescope: rpcMethods(Wirescope),
};

/**
 * The flow streams with raw responses: servers write flows they encoded once (the ring holds
 * bytes), and the relay forwards what its agents sent without decoding it.
 */
export const rawResponseMethods = {
  observer: { getFlows: withRawResponses(methods.observer.getFlows) },
  wirescope: { getFlowBatches: withRawResponses(methods.wirescope.getFlowBatches) },
};

type HandlerOf<Method> =
  Method extends RpcMethod<infer Input, infer Response, 'unary'>
    ? grpc.handleUnaryCall<MessageShape<Input>, Response>
    : Method extends RpcMethod<infer Input, infer Response, 'server_streaming'>
      ? grpc.handleServerStreamingCall<MessageShape<Input>, Response>
      : Method extends RpcMethod<infer Input, infer Response, 'client_streaming'>
        ? grpc.handleClientStreamingCall<MessageShape<Input>, Response>
        : Method extends RpcMethod<infer Input, infer Response, 'bidi_streaming'>
          ? grpc.handleBidiStreamingCall<MessageShape<Input>, Response>
          : never;

/** One handler per method, each typed by its method's request and response. */
export type ServiceHandlers<Methods extends Record<string, AnyRpcMethod>> = {
  [Name in keyof Methods]: HandlerOf<Methods[Name]>;
};

/** Adds a service whose handlers are checked against its methods (keyed as in `methods`). */
export function addService<Methods extends Record<string, AnyRpcMethod>>(
  server: grpc.Server,
  service: Methods,
  handlers: ServiceHandlers<Methods>,
): void {
  server.addService(service, handlers as grpc.UntypedServiceImplementation);
}

export interface ServiceOptions {
  /** Methods (proto names) whose responses are raw bytes (already-encoded messages). */
  rawResponses?: string[];
}

/**
 * An untyped grpc-js ServiceDefinition keyed by proto method names (`GetFlows`), for fakes that
 * implement a service loosely; real servers use `addService` with `methods`.
 */
export function serviceDefinition(service: DescService, opts: ServiceOptions = {}): grpc.ServiceDefinition {
  const def: Record<string, AnyRpcMethod> = {};
  for (const method of service.methods) {
    const rpc = rpcMethod(service, method);
    def[method.name] = opts.rawResponses?.includes(method.name) ? withRawResponses(rpc) : rpc;
  }
  return def;
}

export const observerService = Observer;
export const peerService = Peer;
export const wirescopeService = Wirescope;

/** A generic client whose methods are called with makeUnaryRequest / makeServerStreamRequest. */
export function makeClient(
  address: string,
  credentials: grpc.ChannelCredentials,
  options: grpc.ChannelOptions = {},
): grpc.Client {
  return new grpc.Client(toGrpcTarget(address), credentials, options);
}

/** Accepts host:port, unix:///path, unix:/path or a bare /path. */
export function toGrpcTarget(address: string): string {
  if (address.startsWith('unix://')) return `unix:${address.slice('unix://'.length)}`;
  if (address.startsWith('/')) return `unix:${address}`;
  return address;
}

export interface UnaryOptions {
  deadlineMs?: number;
}

/** A unary call; the request may be the message or the fields `create()` takes. */
export function unary<Input extends DescMessage, Response>(
  client: grpc.Client,
  method: RpcMethod<Input, Response, 'unary'>,
  request: NoInfer<MessageInitShape<Input>>,
  opts: UnaryOptions = {},
): Promise<Response> {
  const message = create(method.input, request);
  const callOpts: grpc.CallOptions = opts.deadlineMs ? { deadline: Date.now() + opts.deadlineMs } : {};
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      message,
      new grpc.Metadata(),
      callOpts,
      (err, value) => (err ? reject(err) : resolve(value as Response)),
    );
  });
}

export interface ServerStreamOptions {
  callOptions?: grpc.CallOptions;
}

/**
 * A server-streaming call; responses are decoded messages, or bytes for a method from
 * `rawResponseMethods`.
 */
export function serverStream<Input extends DescMessage, Response>(
  client: grpc.Client,
  method: RpcMethod<Input, Response, 'server_streaming'>,
  request: NoInfer<MessageInitShape<Input>>,
  opts: ServerStreamOptions = {},
): grpc.ClientReadableStream<Response> {
  return client.makeServerStreamRequest(
    method.path,
    method.requestSerialize,
    method.responseDeserialize,
    create(method.input, request),
    new grpc.Metadata(),
    opts.callOptions ?? {},
  );
}

export interface RawStreamHandlers {
  onMessage(message: Buffer): void;
  /** Called once at the end; code 0 (OK) for a normal end. */
  onStatus(code: grpc.status, details: string): void;
}

/**
 * A server-streaming call that hands over each response's bytes without grpc-js's Readable stream
 * (a per-message cost the relay pays for every flow of every node). Reads one message at a time,
 * so pause() is real backpressure: HTTP/2 flow control stops the sender.
 */
export class RawServerStream {
  private readonly call: ReturnType<grpc.Channel['createCall']>;
  private paused = false;
  private reading = false;
  private done = false;

  constructor(client: grpc.Client, path: string, request: Uint8Array, handlers: RawStreamHandlers) {
    const channel = client.getChannel();
    this.call = channel.createCall(path, Infinity, null, null, undefined);
    this.call.start(new grpc.Metadata(), {
      onReceiveMetadata: () => {},
      onReceiveMessage: (message: Buffer) => {
        this.reading = false;
        handlers.onMessage(message);
        if (!this.paused) this.read();
      },
      onReceiveStatus: (s: grpc.StatusObject) => {
        this.done = true;
        handlers.onStatus(s.code, s.details);
      },
    });
    this.call.sendMessageWithContext({}, Buffer.from(request.buffer, request.byteOffset, request.byteLength));
    this.call.halfClose();
    this.read();
  }

  private read(): void {
    if (this.reading || this.done) return;
    this.reading = true;
    this.call.startRead();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.read();
  }

  cancel(): void {
    if (this.done) return;
    this.call.cancelWithStatus(grpc.status.CANCELLED, 'Cancelled on client');
  }
}
