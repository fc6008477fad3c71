import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { create, toBinary } from '@bufbuild/protobuf';
import ts from 'typescript';
import {
  GetFlowsRequestSchema,
  GetFlowsResponseSchema,
  ServerStatusRequestSchema,
  ServerStatusResponseSchema,
} from '@wirescope/flow';
import { methods, rawResponseMethods, serverStream, unary } from './services.js';

test('descriptors carry the proto paths and kinds', () => {
  const paths = {
    '/observer.Observer/GetFlows': methods.observer.getFlows,
    '/observer.Observer/ServerStatus': methods.observer.serverStatus,
    '/observer.Observer/GetNodes': methods.observer.getNodes,
    '/peer.Peer/Notify': methods.peer.notify,
    '/wirescope.v1.Wirescope/EncryptionStatus': methods.wirescope.encryptionStatus,
    '/wirescope.v1.Wirescope/GetFlowBatches': methods.wirescope.getFlowBatches,
  };
  for (const [path, method] of Object.entries(paths)) assert.equal(method.path, path);
  assert.equal(methods.observer.serverStatus.requestStream, false);
  assert.equal(methods.observer.serverStatus.responseStream, false);
  assert.equal(methods.observer.getFlows.requestStream, false);
  assert.equal(methods.observer.getFlows.responseStream, true);
  assert.equal(methods.observer.serverStatus.originalName, 'serverStatus');
  assert.equal(rawResponseMethods.observer.getFlows.path, '/observer.Observer/GetFlows');
  assert.equal(rawResponseMethods.wirescope.getFlowBatches.path, '/wirescope.v1.Wirescope/GetFlowBatches');
});

test('descriptor serializers encode the request and response messages of the proto', () => {
  const method = methods.observer.serverStatus;
  const request = create(ServerStatusRequestSchema);
  assert.equal(
    method.requestDeserialize(method.requestSerialize(request)).$typeName,
    'observer.ServerStatusRequest',
  );
  const response = create(ServerStatusResponseSchema, { numFlows: 7n, version: 'v' });
  const bytes = method.responseSerialize(response);
  assert.deepEqual(new Uint8Array(bytes), toBinary(ServerStatusResponseSchema, response));
  const decoded = method.responseDeserialize(bytes);
  assert.equal(decoded.$typeName, 'observer.ServerStatusResponse');
  assert.equal(decoded.numFlows, 7n);

  const getFlows = methods.observer.getFlows;
  const flowsRequest = create(GetFlowsRequestSchema, { number: 3n, follow: true });
  assert.equal(getFlows.requestDeserialize(getFlows.requestSerialize(flowsRequest)).number, 3n);
  const encoded = toBinary(GetFlowsResponseSchema, create(GetFlowsResponseSchema, { nodeName: 'n1' }));
  assert.equal(getFlows.responseDeserialize(Buffer.from(encoded)).nodeName, 'n1');
});

test('raw-response descriptors pass response bytes through and still encode requests', () => {
  const raw = rawResponseMethods.observer.getFlows;
  const bytes = Buffer.from([0x0a, 0x00]);
  assert.equal(raw.responseSerialize(bytes), bytes);
  assert.equal(raw.responseDeserialize(bytes), bytes);
  const request = create(GetFlowsRequestSchema, { follow: true });
  assert.deepEqual(new Uint8Array(raw.requestSerialize(request)), toBinary(GetFlowsRequestSchema, request));
});

// Never called: each line is checked by the compiler in the test below. An @ts-expect-error that
// finds no error is itself an error, so a descriptor that stopped typing its calls fails the test.
function typedCalls(client: grpc.Client): void {
  void unary(client, methods.observer.serverStatus, {}).then((status) => status.numFlows satisfies bigint);
  void unary(client, methods.observer.serverStatus, create(ServerStatusRequestSchema));
  // @ts-expect-error a response message is not a request
  void unary(client, methods.observer.serverStatus, create(ServerStatusResponseSchema));
  // @ts-expect-error GetFlows is server-streaming, not unary
  void unary(client, methods.observer.getFlows, {});
  // @ts-expect-error the request's fields are typed: number is a uint64
  serverStream(client, methods.observer.getFlows, { number: 3 });
  serverStream(client, rawResponseMethods.observer.getFlows, { follow: true }).on(
    'data',
    (bytes: Uint8Array) => bytes,
  );
}
void typedCalls;

test('wrong requests and kinds do not compile', () => {
  const here = fileURLToPath(import.meta.url);
  const configPath = join(dirname(here), '..', 'tsconfig.json');
  const config = ts.getParsedCommandLineOfConfigFile(
    configPath,
    { noEmit: true },
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) =>
        assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    },
  );
  assert.ok(config);
  const program = ts.createProgram([here], config.options);
  const diagnostics = ts.getPreEmitDiagnostics(program, program.getSourceFile(here));
  const messages = diagnostics.map((d) => {
    const where =
      d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : '?';
    return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
  assert.deepEqual(messages, []);
});
