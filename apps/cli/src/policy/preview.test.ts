// Synthetic flows (built here, not observed): the preview's evaluation against enforced and pending policies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { FlowSchema, type Flow } from '@wirescope/flow';
import { parsePolicies, type StoredPolicyLike } from '@wirescope/policy';
import { afterApply, formatPreview, previewFlows } from './preview.js';

function flow(
  src: [string, string, number],
  dst: [string, string, number],
  sport: number,
  dport: number,
): Flow {
  const ep = ([namespace, pod, identity]: [string, string, number]) => ({
    namespace,
    podName: pod,
    identity,
    labels: [`k8s:app=${pod}`, `k8s:io.kubernetes.pod.namespace=${namespace}`],
  });
  return create(FlowSchema, {
    IP: { source: '10.0.0.1', destination: '10.0.0.2' },
    source: ep(src),
    destination: ep(dst),
    isReply: false,
    l4: { protocol: { case: 'TCP', value: { sourcePort: sport, destinationPort: dport } } },
  });
}

const policies = (text: string, revision = 1): StoredPolicyLike[] =>
  parsePolicies(text, 'p.yaml').map((p) => ({ ...p, revision }));

const FRONTEND: [string, string, number] = ['shop', 'frontend', 300];
const API: [string, string, number] = ['shop', 'api', 301];
const SCANNER: [string, string, number] = ['untrusted', 'scanner', 302];
const DB: [string, string, number] = ['data', 'db', 303];

const DENY_SCANNER = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: db-deny-untrusted, namespace: data}
spec:
  endpointSelector: {matchLabels: {app: db}}
  enableDefaultDeny: {ingress: false}
  ingressDeny:
  - fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: untrusted}}]
`;
const API_ONLY_FRONTEND = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: api-frontend, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: api}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: frontend}}]
    toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
`;

test('a new deny lists exactly the affected pairs, per port, with connection counts', () => {
  const flows = [
    flow(SCANNER, DB, 40001, 8080),
    flow(SCANNER, DB, 40002, 8080),
    flow(SCANNER, DB, 40002, 8080), // the same connection twice
    flow(API, DB, 40003, 8080),
    flow(FRONTEND, API, 40004, 8080),
    create(FlowSchema, { ...flow(DB, SCANNER, 8080, 40001), isReply: true }), // a reply: not a connection
  ];
  const result = previewFlows(flows, [], afterApply([], policies(DENY_SCANNER)));
  assert.deepEqual(result.rows, [
    {
      source: 'untrusted/scanner',
      destination: 'data/db',
      protocol: 'TCP',
      port: 8080,
      change: 'would-block',
      connections: 2,
      by: ['data/db-deny-untrusted (CiliumNetworkPolicy)'],
    },
  ]);
  assert.equal(result.unchanged, 2);
  assert.match(formatPreview(result)[0]!, /^4 connections seen: 2 would change, 2 unchanged$/);
});

test('a default deny names its trigger; replacing a policy can open what it blocked', () => {
  const flows = [
    flow(FRONTEND, API, 40010, 8080),
    flow(DB, API, 40011, 8080),
    flow(FRONTEND, API, 40012, 9090),
  ];
  const tight = previewFlows(flows, [], policies(API_ONLY_FRONTEND));
  assert.deepEqual(
    tight.rows.map((r) => [r.source, r.port, r.change, r.by]),
    [
      ['data/db', 8080, 'would-block', ['shop/api-frontend (CiliumNetworkPolicy)']],
      ['shop/frontend', 9090, 'would-block', ['shop/api-frontend (CiliumNetworkPolicy)']],
    ],
  );
  const loosened = API_ONLY_FRONTEND.replace(
    'toPorts: [{ports: [{port: "8080", protocol: TCP}]}]',
    'toPorts: [{ports: [{port: "8000", endPort: 9999, protocol: TCP}]}]',
  );
  const current = policies(API_ONLY_FRONTEND);
  const opened = previewFlows(flows, current, afterApply(current, policies(loosened, 2)));
  assert.deepEqual(
    opened.rows.map((r) => [r.source, r.port, r.change]),
    [['shop/frontend', 9090, 'would-open']],
  );
});
