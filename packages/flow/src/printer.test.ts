import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { create, fromJson } from '@bufbuild/protobuf';
import { FlowSchema, LostEventSource, type Flow } from './gen/flow/flow_pb.js';
import { GetFlowsResponseSchema, type GetFlowsResponse } from './gen/observer/observer_pb.js';
import { NodeState } from './gen/relay/relay_pb.js';
import { FlowPrinter, outputFormats, type OutputFormat } from './printer.js';
import { loadRecordedFlows } from './fixtures.js';
import { registry } from './encryption.js';

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
