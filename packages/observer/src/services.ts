// gRPC service definitions for grpc-js built from the generated protobuf-es schemas. Streams that
// carry flows can use raw codecs so the relay passes bytes through untouched.
import * as grpc from '@grpc/grpc-js';
import {
  fromBinary,
  toBinary,
  type DescMessage,
  type DescService,
  type MessageShape,
} from '@bufbuild/protobuf';
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

export interface ServiceOptions {
  /** Methods whose responses are raw bytes (already-encoded messages). */
  rawResponses?: string[];
  /** Methods whose requests stay raw bytes. */
  rawRequests?: string[];
}

/** Builds a grpc-js ServiceDefinition from a protobuf-es service descriptor. */
export function serviceDefinition(service: DescService, opts: ServiceOptions = {}): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    const req = opts.rawRequests?.includes(method.name) ? rawCodec : messageCodec(method.input);
    const res = opts.rawResponses?.includes(method.name) ? rawCodec : messageCodec(method.output);
    def[method.name] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
      responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
      requestSerialize: req.serialize as (v: unknown) => Buffer,
      requestDeserialize: req.deserialize,
      responseSerialize: res.serialize as (v: unknown) => Buffer,
      responseDeserialize: res.deserialize,
      originalName: method.localName,
    } as grpc.MethodDefinition<unknown, unknown>;
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

export function unary<Req, Res>(
  client: grpc.Client,
  service: DescService,
  method: string,
  request: Req,
  opts: { deadlineMs?: number; raw?: boolean } = {},
): Promise<Res> {
  const def = serviceDefinition(service, opts.raw ? { rawResponses: [method] } : {})[method]!;
  return new Promise((resolve, reject) => {
    const callOpts: grpc.CallOptions = opts.deadlineMs ? { deadline: Date.now() + opts.deadlineMs } : {};
    client.makeUnaryRequest(
      def.path,
      def.requestSerialize as (v: Req) => Buffer,
      def.responseDeserialize as (b: Buffer) => Res,
      request,
      new grpc.Metadata(),
      callOpts,
      (err, value) => (err ? reject(err) : resolve(value as Res)),
    );
  });
}

export function serverStream<Req, Res>(
  client: grpc.Client,
  service: DescService,
  method: string,
  request: Req,
  opts: { raw?: boolean; callOptions?: grpc.CallOptions } = {},
): grpc.ClientReadableStream<Res> {
  const def = serviceDefinition(service, opts.raw ? { rawResponses: [method] } : {})[method]!;
  return client.makeServerStreamRequest(
    def.path,
    def.requestSerialize as (v: Req) => Buffer,
    def.responseDeserialize as (b: Buffer) => Res,
    request,
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
