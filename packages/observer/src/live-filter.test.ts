import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import {
  GetFlowsRequestSchema,
  Verdict,
  compileFilters,
  encodeRecordResponse,
  loadRecordedRecords,
  recordToFlow,
  type FlowRecord,
} from '@wirescope/flow';
import { Observer, type FlowSink } from './observer.js';
import type { GetFlowsInit } from './testing.js';

function collectingSink() {
  const written: Uint8Array[] = [];
  const sink: FlowSink = {
    write: (bytes) => {
      written.push(bytes);
      return true;
    },
    onDrain: () => {},
    onCancel: () => {},
    end: () => {},
    cancelled: false,
  };
  return { sink, written };
}

/** hubble observe --namespace default --verdict FORWARDED, minus DNS (what a follower sends). */
const followerFilter: GetFlowsInit = {
  whitelist: [
    { sourcePod: ['default/'], verdict: [Verdict.FORWARDED] },
    { destinationPod: ['default/'], verdict: [Verdict.FORWARDED] },
  ],
  blacklist: [{ destinationPort: ['53'] }],
};

/**
 * The recorded records, each counting reads of policyMatchType: the record writer reads it once
 * per record, recordToFlow once more, and no filter reads it, so extra reads mean a Flow was built.
 */
function countingRecords(): { records: FlowRecord[]; reads: () => number } {
  let reads = 0;
  const records = loadRecordedRecords().map((r) => {
    const value = r.policyMatchType;
    Object.defineProperty(r, 'policyMatchType', {
      get: () => {
        reads++;
        return value;
      },
    });
    return r;
  });
  return { records, reads: () => reads };
}

async function follow(observer: Observer, init: GetFlowsInit) {
  const client = collectingSink();
  await observer.getFlows(create(GetFlowsRequestSchema, { ...init, follow: true }), client.sink);
  return client.written;
}

test('a filtered follower on the live path gets the same flows, filtered on the record (no Flow built)', async () => {
  const bare = countingRecords();
  const unfiltered = new Observer({ nodeName: 'wst-node-1' });
  for (const r of bare.records) unfiltered.pushRecord(r);
  const baselineReads = bare.reads();

  const live = countingRecords();
  const observer = new Observer({ nodeName: 'wst-node-1' });
  const written = await follow(observer, followerFilter);
  for (const r of live.records) observer.pushRecord(r);
  assert.equal(live.reads(), baselineReads, 'the filter read no field only a Flow message needs');

  const req = create(GetFlowsRequestSchema, followerFilter);
  const match = compileFilters(req.whitelist, req.blacklist);
  const expected = live.records.filter((r) => match(recordToFlow(r)));
  assert.ok(expected.length > 0 && expected.length < live.records.length, `${expected.length} match`);
  assert.deepEqual(
    written.map((b) => Buffer.from(b).toString('hex')),
    expected.map((r) => Buffer.from(encodeRecordResponse(r)).toString('hex')),
  );

  // the settled ring entries (bytes only) filter on the decoded Flow: the same flows again
  const history = collectingSink();
  await observer.getFlows(
    create(GetFlowsRequestSchema, { ...followerFilter, number: 1000n, first: true }),
    history.sink,
  );
  assert.deepEqual(history.written, written);
});

test('a field-masked follower still builds the Flow it masks (the read count sees it)', async () => {
  const bare = countingRecords();
  const unfiltered = new Observer({ nodeName: 'wst-node-1' });
  for (const r of bare.records) unfiltered.pushRecord(r);

  const masked = countingRecords();
  const observer = new Observer({ nodeName: 'wst-node-1' });
  const written = await follow(observer, { ...followerFilter, fieldMask: { paths: ['uuid'] } });
  for (const r of masked.records) observer.pushRecord(r);
  assert.ok(written.length > 0);
  assert.equal(masked.reads(), bare.reads() + written.length, 'one recordToFlow per flow sent');
});
