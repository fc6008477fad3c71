import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { create, fromJson } from '@bufbuild/protobuf';
import { FlowSchema, LostEventSource, TrafficDirection, Verdict, type Flow } from './gen/flow/flow_pb.js';
import { GetFlowsResponseSchema, type GetFlowsResponse } from './gen/observer/observer_pb.js';
import { NodeState } from './gen/relay/relay_pb.js';
import { FlowPrinter, outputFormats, type OutputFormat } from './printer.js';
import { loadRecordedFlows } from './fixtures.js';
import { registry, setEncryption } from './encryption.js';
import { Mechanism } from './gen/wirescope/v1/wirescope_pb.js';
import { kernelDropSubType } from './names.js';

const goldenDir = new URL('../testdata/golden/', import.meta.url);
const flows = loadRecordedFlows();

function responses(): GetFlowsResponse[] {
  // Every kind of flow in the recording appears within its first round (37 flows).
  const out: GetFlowsResponse[] = [
    create(GetFlowsResponseSchema, {
      responseTypes: {
        case: 'nodeStatus',
        value: { stateChange: NodeState.NODE_CONNECTED, nodeNames: ['wst-node-1', 'wst-node-2'] },
      },
      time: flows[0]!.time,
    }),
    create(GetFlowsResponseSchema, {
      responseTypes: {
        case: 'nodeStatus',
        value: {
          stateChange: NodeState.NODE_UNAVAILABLE,
          nodeNames: ['wst-node-3'],
          message: 'connection refused',
        },
      },
      time: flows[0]!.time,
    }),
  ];
  for (const f of flows.slice(0, 37)) {
    out.push(
      create(GetFlowsResponseSchema, {
        responseTypes: { case: 'flow', value: f },
        nodeName: f.nodeName,
        time: f.time,
      }),
    );
  }
  out.push(
    create(GetFlowsResponseSchema, {
      responseTypes: {
        case: 'lostEvents',
        value: { source: LostEventSource.OBSERVER_EVENTS_QUEUE, numEventsLost: 12n },
      },
      nodeName: 'wst-node-3',
      time: flows[36]!.time,
    }),
  );
  return out;
}

function render(format: OutputFormat, nodeName: boolean, color = false): string {
  const lines: string[] = [];
  const printer = new FlowPrinter({
    format,
    nodeName,
    color,
    out: (l) => lines.push(l),
    err: (l) => lines.push(`stderr: ${l}`),
  });
  for (const r of responses()) printer.write(r);
  printer.flush();
  return lines.join('\n') + '\n';
}

for (const format of outputFormats) {
  for (const nodeName of [false, true]) {
    const name = `${format}${nodeName ? '-node-name' : ''}.txt`;
    test(`golden output: ${name}`, () => {
      const got = render(format, nodeName);
      const file = new URL(name, goldenDir);
      if (process.env.UPDATE_GOLDEN || !existsSync(file)) {
        mkdirSync(goldenDir, { recursive: true });
        writeFileSync(file, got);
        if (!process.env.UPDATE_GOLDEN)
          assert.fail(`golden file ${name} was missing and has been written; rerun`);
      }
      assert.equal(got, readFileSync(file, 'utf8'));
    });
  }
}

const example = (isReply: boolean | undefined, identities: [number, number] = [1234, 5678]): Flow =>
  fromJson(FlowSchema, {
    time: '2026-01-01T00:00:00.000Z',
    verdict: 'FORWARDED',
    IP: { source: '10.0.0.1', destination: '10.0.0.2', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 44354, destination_port: 80, flags: { SYN: true } } },
    source: { namespace: 'default', pod_name: 'pod-a', identity: identities[0] },
    destination: { namespace: 'default', pod_name: 'pod-b', identity: identities[1] },
    event_type: { type: 4, sub_type: 0 },
    node_name: 'node-1',
    ...(isReply === undefined ? {} : { is_reply: isReply }),
  });

test('compact matches hubble line format exactly', () => {
  const p = new FlowPrinter({ format: 'compact', out: () => {} });
  assert.equal(
    p.compact(example(false)),
    'Jan  1 00:00:00.000: default/pod-a:44354 (ID:1234) -> default/pod-b:80 (ID:5678) to-endpoint FORWARDED (TCP Flags: SYN)',
  );
  assert.equal(
    p.compact(example(true)),
    'Jan  1 00:00:00.000: default/pod-b:80 (ID:5678) <- default/pod-a:44354 (ID:1234) to-endpoint FORWARDED (TCP Flags: SYN)',
  );
  assert.match(p.compact(example(undefined)), / <> /);
  assert.match(p.compact(example(false, [1, 2])), /\(host\) -> default\/pod-b:80 \(world\)/);
  const withNode = new FlowPrinter({ format: 'compact', nodeName: true, out: () => {} });
  assert.match(withNode.compact(example(false)), /^Jan {2}1 00:00:00\.000 \[node-1\]: /);
});

test('compact colors on request and marks encrypted flows with a lock', () => {
  const colored = render('compact', false, true);
  assert.match(colored, /\x1b\[32mFORWARDED\x1b\[0m/);
  assert.match(colored, /\x1b\[31mDROPPED\x1b\[0m/);
  const plain = render('compact', false);
  assert.doesNotMatch(plain, /\x1b\[/);
  const encryptedLines = plain.split('\n').filter((l) => l.includes('🔒'));
  assert.ok(encryptedLines.length > 0);
  assert.ok(plain.includes('⚠ plaintext leak'));
});

test('json and jsonpb are protojson with proto field names that parse back', () => {
  const [jsonLine] = render('json', false)
    .split('\n')
    .filter((l) => l.startsWith('{"time"'));
  const parsed = JSON.parse(jsonLine!);
  assert.equal(parsed.IP.ipVersion, 'IPv4');
  assert.ok('source_port' in parsed.l4.UDP);
  assert.deepEqual(fromJson(FlowSchema, parsed, { registry }), flows[0]);
  const pb = render('jsonpb', false)
    .split('\n')
    .filter((l) => l.includes('"flow"'));
  const resp = fromJson(GetFlowsResponseSchema, JSON.parse(pb[1]!), { registry });
  assert.equal(resp.nodeName, flows[1]!.nodeName);
  const ext = JSON.parse(pb[1]!).flow.extensions;
  assert.equal(ext['@type'], 'type.googleapis.com/wirescope.v1.Encryption');
  assert.equal(ext.mechanism, 'MECHANISM_WIREGUARD');
});

/** A UDP packet to a closed port as the agent reports it: kernel drop NO_SOCKET (see flow.proto). */
const kernelDrop = (): Flow =>
  setEncryption(
    fromJson(FlowSchema, {
      time: '2026-01-01T00:00:00.000Z',
      verdict: 'DROPPED',
      drop_reason: kernelDropSubType,
      IP: { source: '10.244.1.20', destination: '10.244.3.10', ipVersion: 'IPv4' },
      l4: { UDP: { source_port: 40000, destination_port: 9999 } },
      source: { namespace: 'default', pod_name: 'udp-probe', identity: 1234 },
      destination: { namespace: 'data', pod_name: 'db', identity: 5678 },
      event_type: { type: 1, sub_type: kernelDropSubType },
      node_name: 'node-3',
      Summary: 'UDP; kernel drop: NO_SOCKET',
    }),
    { mechanism: Mechanism.NONE, kernelDropReason: 'NO_SOCKET', kernelDropReasonCode: 3 },
  );

function printed(format: OutputFormat, flow: Flow): string[] {
  const lines: string[] = [];
  const p = new FlowPrinter({ format, out: (l) => lines.push(l) });
  p.write(create(GetFlowsResponseSchema, { responseTypes: { case: 'flow', value: flow }, time: flow.time }));
  p.flush();
  return lines;
}

test('a kernel drop prints its kernel reason as TYPE in compact, dict and table; never a Cilium reason', () => {
  assert.deepEqual(printed('compact', kernelDrop()), [
    'Jan  1 00:00:00.000: default/udp-probe:40000 (ID:1234) <> data/db:9999 (ID:5678) kernel drop: NO_SOCKET DROPPED (UDP)',
  ]);
  assert.deepEqual(printed('dict', kernelDrop()), [
    '  TIMESTAMP: Jan  1 00:00:00.000',
    '     SOURCE: default/udp-probe:40000',
    'DESTINATION: data/db:9999',
    '       TYPE: kernel drop: NO_SOCKET',
    '    VERDICT: DROPPED',
    '    SUMMARY: UDP',
    ' ENCRYPTION: no',
  ]);
  assert.deepEqual(printed('table', kernelDrop()), [
    'TIMESTAMP             SOURCE                    DESTINATION    TYPE                     VERDICT   SUMMARY   ENCRYPTION',
    'Jan  1 00:00:00.000   default/udp-probe:40000   data/db:9999   kernel drop: NO_SOCKET   DROPPED   UDP       no',
  ]);
  const unnamed = kernelDrop();
  unnamed.extensions = undefined;
  assert.match(printed('compact', unnamed)[0]!, / kernel drop DROPPED \(UDP\)$/);
  for (const format of outputFormats)
    for (const line of printed(format, kernelDrop()))
      assert.doesNotMatch(line, /Interface|unknown drop reason/);
});

test('a kernel drop in json and jsonpb carries sub_type 255, the Summary and the kernel reason in the extension', () => {
  const [json] = printed('json', kernelDrop());
  const flow = JSON.parse(json!);
  assert.deepEqual(flow.event_type, { type: 1, sub_type: 255 });
  assert.equal(flow.drop_reason, 255);
  assert.equal(flow.drop_reason_desc, undefined);
  assert.equal(flow.Summary, 'UDP; kernel drop: NO_SOCKET');
  assert.deepEqual(flow.extensions, {
    '@type': 'type.googleapis.com/wirescope.v1.Encryption',
    mechanism: 'MECHANISM_NONE',
    kernel_drop_reason: 'NO_SOCKET',
    kernel_drop_reason_code: 3,
  });
  const [jsonpb] = printed('jsonpb', kernelDrop());
  assert.equal(JSON.parse(jsonpb!).flow.extensions.kernel_drop_reason, 'NO_SOCKET');
});

test('Cilium drop reasons print with Cilium 1.19 wording; a code outside the table prints as a number, not "unknown"', () => {
  const drop = (sub: number) => {
    const f = kernelDrop();
    f.eventType!.subType = sub;
    f.extensions = undefined;
    return printed('compact', f)[0]!;
  };
  assert.match(drop(195), / Traffic is unencrypted DROPPED /);
  assert.match(drop(133), / Policy denied DROPPED /);
  assert.match(drop(3), / Interface DROPPED /);
  assert.match(drop(250), / drop reason 250 DROPPED /);
});

function nodeStatusLines(
  format: OutputFormat,
  debug: boolean,
  state: NodeState,
  nodeNames: string[],
  message = '',
): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const p = new FlowPrinter({ format, debug, out: (l) => out.push(l), err: (l) => err.push(l) });
  p.write(
    create(GetFlowsResponseSchema, {
      responseTypes: { case: 'nodeStatus', value: { stateChange: state, nodeNames, message } },
      time: flows[0]!.time,
    }),
  );
  p.flush();
  return { out, err };
}

test('node status never goes to stdout; without debug only unavailable, error and gone are shown (hubble wording)', () => {
  const three = ['node1', 'node2', 'node3'];
  for (const format of outputFormats) {
    assert.deepEqual(
      nodeStatusLines(format, false, NodeState.NODE_CONNECTED, three),
      { out: [], err: [] },
      format,
    );
    for (const state of [NodeState.NODE_UNAVAILABLE, NodeState.NODE_ERROR, NodeState.NODE_GONE]) {
      const { out } = nodeStatusLines(format, false, state, three);
      assert.deepEqual(out, [], `${format} ${state}`);
    }
  }
  const compact = (state: NodeState, names: string[], message = '') =>
    nodeStatusLines('compact', false, state, names, message).err;
  assert.deepEqual(compact(NodeState.NODE_UNAVAILABLE, ['node3']), [
    'Nov 21 10:00:00.000: 1 nodes are unavailable: node3',
  ]);
  assert.deepEqual(compact(NodeState.NODE_ERROR, ['node2'], 'stream reset'), [
    'Nov 21 10:00:00.000: Error "stream reset" on 1 nodes: node2',
  ]);
  assert.deepEqual(compact(NodeState.NODE_GONE, ['node2']), [
    'Nov 21 10:00:00.000: 1 nodes removed from cluster: node2',
  ]);
  assert.deepEqual(nodeStatusLines('table', false, NodeState.NODE_UNAVAILABLE, ['node3']).err, [
    'Nov 21 10:00:00.000: 1 nodes are unavailable: node3',
  ]);
  assert.deepEqual(nodeStatusLines('dict', false, NodeState.NODE_ERROR, ['node2'], 'reset').err, [
    '  TIMESTAMP: Nov 21 10:00:00.000',
    '      STATE: NODE_ERROR',
    '      NODES: node2',
    '    MESSAGE: "reset"',
  ]);
  const [jsonpb] = nodeStatusLines('jsonpb', false, NodeState.NODE_UNAVAILABLE, ['node3']).err;
  assert.deepEqual(JSON.parse(jsonpb!).node_status, {
    state_change: 'NODE_UNAVAILABLE',
    node_names: ['node3'],
  });
  // hubble's legacy json output prints flows only
  assert.deepEqual(nodeStatusLines('json', false, NodeState.NODE_UNAVAILABLE, ['node3']).err, []);
});

test('with debug the connected nodes are shown too, on stderr; long node lists are cut like hubble does', () => {
  assert.deepEqual(nodeStatusLines('compact', true, NodeState.NODE_CONNECTED, ['node1', 'node2', 'node3']), {
    out: [],
    err: ['Nov 21 10:00:00.000: Receiving flows from 3 nodes: node1, node2, node3'],
  });
  const many = Array.from({ length: 12 }, (_, i) => `worker-${i + 1}`);
  assert.deepEqual(nodeStatusLines('compact', true, NodeState.NODE_CONNECTED, many).err, [
    'Nov 21 10:00:00.000: Receiving flows from 12 nodes: worker-1, worker-2, worker-3, worker-4, worker-5 (and 7 more)',
  ]);
});

test('policy verdicts print as hubble does: match type and direction, ALLOWED / DENIED / AUDITED, BY names on request', () => {
  const verdictFlow = (verdict: Verdict, by: 'allowed' | 'denied') =>
    create(FlowSchema, {
      time: { seconds: 1700000000n, nanos: 0 },
      verdict,
      eventType: { type: 5, subType: 0 },
      policyMatchType: 2,
      trafficDirection: TrafficDirection.INGRESS,
      isReply: by === 'allowed' ? false : undefined,
      source: { namespace: 'untrusted', podName: 'scanner', identity: 300 },
      destination: { namespace: 'data', podName: 'db', identity: 301 },
      IP: { source: '10.244.2.11', destination: '10.244.3.10' },
      l4: {
        protocol: { case: 'TCP', value: { sourcePort: 40000, destinationPort: 8080, flags: { SYN: true } } },
      },
      [by === 'allowed' ? 'ingressAllowedBy' : 'ingressDeniedBy']: [
        { name: 'db-deny-untrusted', namespace: 'data', kind: 'CiliumNetworkPolicy' },
      ],
    });
  const lines = (printPolicyNames: boolean, f: ReturnType<typeof verdictFlow>) => {
    return new FlowPrinter({ format: 'compact', out: () => {}, printPolicyNames }).compact(f);
  };
  const denied = verdictFlow(Verdict.DROPPED, 'denied');
  assert.match(
    lines(false, denied),
    /untrusted\/scanner:40000 \(ID:300\) <> data\/db:8080 \(ID:301\) policy-verdict:L3-L4 INGRESS DENIED \(TCP Flags: SYN\)$/,
  );
  assert.match(
    lines(true, denied),
    / policy-verdict:L3-L4 INGRESS DENIED BY db-deny-untrusted \(CiliumNetworkPolicy\) \(TCP Flags: SYN\)$/,
  );
  assert.match(
    lines(true, verdictFlow(Verdict.FORWARDED, 'allowed')),
    / -> .* policy-verdict:L3-L4 INGRESS ALLOWED BY db-deny-untrusted \(CiliumNetworkPolicy\) /,
  );
  assert.match(
    lines(true, verdictFlow(Verdict.AUDIT, 'denied')),
    / policy-verdict:L3-L4 INGRESS AUDITED \(TCP/,
  );
});
