import { rmSync } from 'node:fs';
import { BpfError, invalidArg } from './errors.js';
import { native, type NativeMapInfo } from './native.js';
import { checkBpffsPath } from './validate.js';

/** BPF_ANY, BPF_NOEXIST, BPF_EXIST */
export type MapUpdateMode = 'any' | 'noexist' | 'exist';
const UPDATE_FLAGS: Record<MapUpdateMode, number> = { any: 0, noexist: 1, exist: 2 };

const PERCPU_TYPES = new Set(['percpu_hash', 'percpu_array', 'lru_percpu_hash', 'percpu_cgroup_storage']);

/** Something that can say whether the fd a map uses is still open. */
export interface FdOwner {
  readonly closed: boolean;
}

/**
 * A BPF map reached through an fd: a map of a loaded BpfObject (the object owns the fd) or a
 * pinned map opened with BpfMap.openPinned (the map owns it and close() releases it).
 * Keys and values are Buffers of exactly keySize / valueSize bytes; per-CPU maps read and
 * write valueSize rounded up to 8, times the number of possible CPUs.
 */
export class BpfMap implements FdOwner {
  readonly name: string;
  readonly type: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly #fd: number;
  readonly #owner: FdOwner | undefined;
  #closed = false;

  /** @internal use BpfObject.map() or BpfMap.openPinned() */
  constructor(fd: number, info: NativeMapInfo, owner: FdOwner | undefined) {
    this.#fd = fd;
    this.#owner = owner;
    this.name = info.name;
    this.type = info.type;
    this.keySize = info.keySize;
    this.valueSize = info.valueSize;
    this.maxEntries = info.maxEntries;
  }

  /** Opens a map pinned in bpffs (e.g. by another process or an earlier run). */
  static openPinned(path: string): BpfMap {
    checkBpffsPath(path);
    const fd = native.objGet(path);
    try {
      return new BpfMap(fd, native.mapInfo(fd), undefined);
    } catch (err) {
      native.closeFd(fd);
      throw err;
    }
  }

  /** Removes a pin; the map lives on while anything else holds it. Missing pins are fine. */
  static unpin(path: string): void {
    checkBpffsPath(path);
    rmSync(path, { force: true });
  }

  get closed(): boolean {
    return this.#closed || (this.#owner?.closed ?? false);
  }

  /** The map fd; valid until the map (or its object) is closed. */
  get fd(): number {
    this.#check();
    return this.#fd;
  }

  get isPerCpu(): boolean {
    return PERCPU_TYPES.has(this.type);
  }

  /** Bytes a lookup returns: valueSize, or the per-CPU array of 8-byte-aligned slots. */
  get lookupSize(): number {
    return this.isPerCpu ? Math.ceil(this.valueSize / 8) * 8 * native.numPossibleCpus() : this.valueSize;
  }

  lookup(key: Buffer): Buffer | null {
    this.#checkKey(key);
    return native.mapLookup(this.#fd, key, this.lookupSize);
  }

  update(key: Buffer, value: Buffer, mode: MapUpdateMode = 'any'): void {
    this.#checkKey(key);
    if (!Buffer.isBuffer(value)) throw invalidArg(`map ${this.name}: value must be a Buffer`);
    if (value.length !== this.lookupSize)
      throw invalidArg(`map ${this.name}: value must be ${this.lookupSize} bytes, got ${value.length}`);
    const flags = UPDATE_FLAGS[mode];
    if (flags === undefined)
      throw invalidArg(`map ${this.name}: mode must be any, noexist or exist; got ${String(mode)}`);
    native.mapUpdate(this.#fd, key, value, flags);
  }

  /** Returns false when the key was not there. */
  delete(key: Buffer): boolean {
    this.#checkKey(key);
    return native.mapDelete(this.#fd, key);
  }

  /** Iterates keys with BPF_MAP_GET_NEXT_KEY (entries changed meanwhile may be skipped or repeated). */
  *keys(): IterableIterator<Buffer> {
    this.#check();
    let key: Buffer | null = null;
    for (;;) {
      this.#check();
      key = native.mapNextKey(this.#fd, key, this.keySize);
      if (key === null) return;
      yield key;
    }
  }

  *entries(): IterableIterator<[Buffer, Buffer]> {
    for (const key of this.keys()) {
      const value = native.mapLookup(this.#fd, key, this.lookupSize);
      if (value !== null) yield [key, value];
    }
  }

  /** Per-CPU map of u64 counters: the sum over CPUs of the value at key. */
  sumPerCpuU64(key: Buffer): bigint {
    if (!this.isPerCpu || this.valueSize !== 8)
      throw invalidArg(`map ${this.name}: sumPerCpuU64 needs a per-CPU map of 8-byte values`);
    const value = this.lookup(key);
    if (value === null) return 0n;
    let total = 0n;
    for (let off = 0; off < value.length; off += 8) total += value.readBigUInt64LE(off);
    return total;
  }

  pin(path: string): void {
    this.#check();
    checkBpffsPath(path);
    native.objPin(this.#fd, path);
  }

  /** Releases the fd of a map opened with openPinned; a no-op for maps owned by an object. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owner === undefined) native.closeFd(this.#fd);
  }

  #check(): void {
    if (this.closed) throw new BpfError('ERR_CLOSED', 0, 'map', `map ${this.name} is closed`);
  }

  #checkKey(key: Buffer): void {
    this.#check();
    if (!Buffer.isBuffer(key)) throw invalidArg(`map ${this.name}: key must be a Buffer`);
    if (key.length !== this.keySize)
      throw invalidArg(`map ${this.name}: key must be ${this.keySize} bytes, got ${key.length}`);
  }
}
