// Every family's name, type, HELP and label names against testdata/metrics.golden, whose
// hubble_* and wireguard_* lines were written from the reference (../shared/reference/metrics.md
// §1.2, §4.1, §4.2), and the exposition linted by Prometheus's own promtool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { DropReason } from '@wirescope/flow';
import { create } from '@bufbuild/protobuf';
import { HandshakeEventSchema, HandshakeMessageType } from '@wirescope/flow';
import { NodeMetrics } from './node-metrics.js';
import { SyntheticNodeState, syntheticFlow } from './test-support/synthetic.js';

const GOLDEN = new URL('./testdata/metrics.golden', import.meta.url);
const ALL_PLUGINS =
  'flow drop:sourceContext=namespace tcp icmp port-distribution flows-to-world policy:sourceContext=namespace;destinationContext=namespace';

async function fullExposition(): Promise<string> {
  const m = new NodeMetrics(new SyntheticNodeState(), { hubbleMetrics: ALL_PLUGINS });
  const world = { ns: '', pod: '', ip: '1.1.1.1', labels: ['reserved:world'] };
  m.observeFlow(syntheticFlow({ tcp: { dport: 80, flags: { SYN: true } }, isReply: false }));
  m.observeFlow(syntheticFlow({ icmp: { type: 8, code: 0 }, isReply: false }));
  m.observeFlow(syntheticFlow({ udp: { dport: 53 }, dst: world, drop: DropReason.POLICY_DENIED }));
  m.observeFlow({
    ...syntheticFlow({ tcp: { dport: 80 } }),
    eventType: { $typeName: 'flow.CiliumEventType', type: 5, subType: 0 },
  });
  for (let i = 0; i < 2; i++)
    // the second is a rekey
    m.observeHandshake(
      create(HandshakeEventSchema, {
        peerNode: 'node-b',
        messageType: HandshakeMessageType.HANDSHAKE_RESPONSE,
        initiatedLocally: true,
        roundTripNs: 1_000_000n,
      }),
    );
  const body = (await m.scrape()).body;
  m.stop();
  return body;
}

/** `TYPE name{label,…} HELP` per family, label names in the order of the first sample. */
function families(text: string): string[] {
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  const labels = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    let m = /^# HELP (\S+) (.*)$/.exec(line);
    if (m) help.set(m[1]!, m[2]!);
    m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (m) type.set(m[1]!, m[2]!);
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} /.exec(line);
    if (m) {
      const family = [...type.keys()].find(
        (f) => m![1] === f || (m![1]!.startsWith(f + '_') && type.get(f) === 'histogram'),
      );
      if (family && !labels.has(family))
        labels.set(
          family,
          [...m[2]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)]
            .map((x) => x[1]!)
            .filter((l) => l !== 'le'),
        );
    }
  }
  return [...type.keys()]
    .filter((f) => !f.startsWith('process_') && !f.startsWith('nodejs_'))
    .sort()
    .map((f) => `${type.get(f)} ${f}{${(labels.get(f) ?? []).join(',')}} ${help.get(f)}`);
}

test('metric families, types, HELP and label names match the golden file', async () => {
  const got = families(await fullExposition());
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, got.join('\n') + '\n');
  const want = readFileSync(GOLDEN, 'utf8').trim().split('\n');
  assert.deepEqual(got, want);
});

test('promtool check metrics finds nothing to say about the exposition', async () => {
  const res = spawnSync('promtool', ['check', 'metrics'], {
    input: await fullExposition(),
    encoding: 'utf8',
  });
  assert.equal(res.error, undefined, 'promtool (Debian package prometheus) must be installed');
  assert.equal(res.status, 0, `promtool check metrics: ${res.stdout}${res.stderr}`);
});
