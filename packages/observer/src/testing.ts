// Test support shared by the observer, relay and CLI tests: a throwaway PKI and a GetFlows collector.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { GetFlowsRequestSchema, type GetFlowsResponse } from '@wirescope/flow';
import { service as healthService } from 'grpc-health-check';
import { makeClient, methods, serverStream } from './services.js';

export type GetFlowsInit = Parameters<typeof create<typeof GetFlowsRequestSchema>>[1];

export function testClient(
  address: string,
  creds = grpc.credentials.createInsecure(),
  options: grpc.ChannelOptions = {},
): grpc.Client {
  return makeClient(address, creds, options);
}

/** Runs GetFlows to the end and returns every response, or rejects with the gRPC error. */
export function collectFlows(c: grpc.Client, req: GetFlowsInit): Promise<GetFlowsResponse[]> {
  return new Promise((resolve, reject) => {
    const out: GetFlowsResponse[] = [];
    const call = serverStream(c, methods.observer.getFlows, create(GetFlowsRequestSchema, req));
    call.on('data', (r: GetFlowsResponse) => out.push(r));
    call.on('error', reject);
    call.on('end', () => resolve(out));
  });
}

const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');

/** grpc.health.v1 Health/Check as a stock client sends it; resolves to the status name. */
export function checkHealth(address: string, service: string): Promise<string> {
  const client = new HealthClient(address, grpc.credentials.createInsecure());
  return new Promise<string>((resolve, reject) => {
    const check = client['Check'] as (
      req: { service: string },
      options: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, res?: { status: string }) => void,
    ) => void;
    check.call(client, { service }, { deadline: Date.now() + 5000 }, (err, res) =>
      err ? reject(err) : resolve(res!.status),
    );
  }).finally(() => client.close());
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface TestPki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A throwaway CA with a server certificate (SAN localhost, 127.0.0.1) and a client certificate. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'wst3-pki-'));
  const p = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=wirescope-test-ca',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.crt'),
  );
  for (const [name, san] of [
    [
      'server',
      'subjectAltName=DNS:localhost,DNS:relay.wirescope.local,DNS:*.agent.wirescope.local,IP:127.0.0.1',
    ],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    ssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      p(`${name}.key`),
      '-out',
      p(`${name}.csr`),
    );
    writeFileSync(p(`${name}.ext`), `${san}\n`);
    ssl(
      'x509',
      '-req',
      '-in',
      p(`${name}.csr`),
      '-CA',
      p('ca.crt'),
      '-CAkey',
      p('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      p(`${name}.crt`),
      '-extfile',
      p(`${name}.ext`),
    );
  }
  return {
    dir,
    ca: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
  };
}
