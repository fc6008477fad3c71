// Cilium-alignchecker-style guard: the decoder's table must match the compiled C structs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { ENUMS, EVENT_MAGIC, EVENT_VERSION, LAYOUT } from './layout.js';
import { bpfIncludeDir, bpfObject } from '@wirescope/bpf';

const ABI_OBJECT = bpfObject('abi');
const EVENTS_H = `${bpfIncludeDir}events.h`;

interface BtfType {
  id: number;
  kind: string;
  name: string;
  size?: number;
  type_id?: number;
  nr_elems?: number;
  members?: { name: string; type_id: number; bits_offset: number }[];
  values?: { name: string; val: number }[];
}

function loadBtf(path: string): Map<number, BtfType> {
  assert.ok(existsSync(path), `${path} missing: build first (npx turbo run build --filter=@wirescope/bpf)`);
  const json = execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', path, 'format', 'raw'], {
    encoding: 'utf8',
  });
  const types = (JSON.parse(json) as { types: BtfType[] }).types;
  return new Map(types.map((t) => [t.id, t]));
}

function sizeOf(btf: Map<number, BtfType>, id: number): number {
  const t = btf.get(id);
  assert.ok(t, `BTF type ${id} missing`);
  switch (t.kind) {
    case 'INT':
    case 'STRUCT':
    case 'UNION':
    case 'ENUM':
      return t.size ?? 0;
    case 'TYPEDEF':
    case 'CONST':
    case 'VOLATILE':
      return sizeOf(btf, t.type_id ?? 0);
    case 'ARRAY':
      return (t.nr_elems ?? 0) * sizeOf(btf, t.type_id ?? 0);
    default:
      throw new Error(`unexpected BTF kind ${t.kind}`);
  }
}

const btf = loadBtf(ABI_OBJECT);
const byName = (kind: string, name: string) =>
  [...btf.values()].find((t) => t.kind === kind && t.name === name);

for (const [structName, layout] of Object.entries(LAYOUT)) {
  test(`${structName}: TS offsets and sizes equal the BTF of abi.bpf.o`, () => {
    const s = byName('STRUCT', structName);
    assert.ok(s, `struct ${structName} not in BTF: add a global of it to bpf/abi.bpf.c`);
    assert.equal(layout.size, s.size, `sizeof(struct ${structName})`);
    const btfFields = Object.fromEntries(
      (s.members ?? []).map((m) => {
        assert.equal(m.bits_offset % 8, 0, `${structName}.${m.name} is a bitfield`);
        return [m.name, { offset: m.bits_offset / 8, size: sizeOf(btf, m.type_id) }];
      }),
    );
    assert.deepEqual(layout.fields, btfFields);
  });
}

test('every struct in events.h has a layout entry', () => {
  const header = readFileSync(EVENTS_H, 'utf8');
  const declared = [...header.matchAll(/^struct (\w+) \{/gm)].map((m) => m[1]);
  assert.deepEqual(declared.sort(), Object.keys(LAYOUT).sort());
});

test('enum values and #defines equal events.h', () => {
  for (const [enumName, values] of Object.entries(ENUMS)) {
    const e = byName('ENUM', enumName);
    assert.ok(e, `enum ${enumName} not in BTF`);
    assert.deepEqual(Object.fromEntries((e.values ?? []).map((v) => [v.name, v.val])), values);
  }
  const header = readFileSync(EVENTS_H, 'utf8');
  assert.equal(Number(/#define WS_EVENT_MAGIC (0x[0-9a-fA-F]+)/.exec(header)?.[1]), EVENT_MAGIC);
  assert.equal(Number(/#define WS_EVENT_VERSION (\d+)/.exec(header)?.[1]), EVENT_VERSION);
});
