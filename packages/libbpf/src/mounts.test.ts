// bpffs and tracefs mounted on demand, as the agent and setup do on a new machine. Mounted at
// scratch directories so the test never depends on (or disturbs) the machine's own mounts.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BpfError,
  BpfMap,
  BpfObject,
  ensureBpfFs,
  ensureTraceFs,
  isMounted,
  unmountIfMountedNow,
} from './index.js';
import { exitUnlessRoot } from './netns-fixture.js';
import { bpfObject } from '@wirescope/bpf';

exitUnlessRoot();

const TESTPROG = bpfObject('testprog');
const scratch = mkdtempSync(join(tmpdir(), 'wst1-mounts-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('ensureBpfFs mounts a bpffs once, a second call finds it, and pins then work in it', () => {
  const path = join(scratch, 'bpf');
  const first = ensureBpfFs(path);
  try {
    assert.deepEqual(first, { path, fsType: 'bpf', mountedNow: true });
    assert.ok(isMounted(path, 'bpf'));
    assert.equal(ensureBpfFs(path).mountedNow, false);
  } finally {
    unmountIfMountedNow(first);
  }
  assert.equal(isMounted(path, 'bpf'), false);
});

test('a map pins under a bpffs that ensureBpfFs mounted (the fresh-machine failure)', () => {
  const bpffs = ensureBpfFs();
  const obj = BpfObject.load(TESTPROG);
  const pin = `/sys/fs/bpf/wst1-${process.pid}-mounts`;
  try {
    obj.map('hits').pin(pin);
    const again = BpfMap.openPinned(pin);
    assert.equal(again.type, obj.map('hits').type);
    again.close();
  } finally {
    BpfMap.unpin(pin);
    obj.close();
    unmountIfMountedNow(bpffs);
  }
});

test('ensureTraceFs mounts tracefs where asked', () => {
  const path = join(scratch, 'tracing');
  const result = ensureTraceFs(path);
  try {
    assert.equal(result.mountedNow, true);
    assert.ok(isMounted(path, 'tracefs'));
  } finally {
    unmountIfMountedNow(result);
  }
});

test('a mount that cannot be made is a typed ERR_MOUNT error naming the command', () => {
  const file = join(scratch, 'not-a-directory');
  writeFileSync(file, '');
  assert.throws(
    () => ensureBpfFs(join(file, 'bpf')),
    (err: unknown) =>
      err instanceof BpfError &&
      err.code === 'ERR_MOUNT' &&
      err.step === 'mount' &&
      err.message.includes(`mount -t bpf bpffs ${join(file, 'bpf')}`),
  );
});
