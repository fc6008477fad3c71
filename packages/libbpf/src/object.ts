import { existsSync } from 'node:fs';
import { BpfError, invalidArg } from './errors.js';
import { BpfMap } from './map.js';
import { TcLink, TracingLink, tcAttachArgs, type Detachable, type TcAttachOptions } from './links.js';
import { native, type NativeGlobalInfo, type NativeObjectHandle, type NativeProgramInfo } from './native.js';
import { RingBufferReader, type RingBufferOptions, type BatchHandler } from './ringbuf.js';
import { checkBuffer, checkInt, checkName, describe } from './validate.js';

export type GlobalValue = number | bigint | boolean | Buffer;

export interface OpenOptions {
  /** Initial values of `const volatile` globals (or .data/.bss ones), set before load. */
  rodata?: Record<string, GlobalValue>;
  /** New max_entries per map name (ring buffers: bytes, a power-of-2 multiple of the page size). */
  maxEntries?: Record<string, number>;
  /** Programs to leave unloaded (false) or to load (true) regardless of the object's default. */
  autoload?: Record<string, boolean>;
  /**
   * Maps to share with objects loaded earlier, by this object's map name: the map is not
   * created at load, the given one is used (types and sizes must match). One ring buffer for
   * several objects keeps their records in one stream, in commit order.
   */
  reuseMaps?: Record<string, BpfMap>;
}

export interface TestRunResult {
  /** The program's return value (for tc: the TC_ACT_* verdict). */
  retval: number;
  /** Average run time per repetition as measured by the kernel. */
  durationNs: number;
  /** The packet after the program ran. */
  dataOut: Buffer;
}

/** A program of a BpfObject, by name. */
export class BpfProgram {
  readonly name: string;
  readonly section: string;
  readonly type: string;
  readonly #object: BpfObject;

  /** @internal */
  constructor(object: BpfObject, info: NativeProgramInfo) {
    this.#object = object;
    this.name = info.name;
    this.section = info.section;
    this.type = info.type;
  }

  get fd(): number {
    return this.#object.handle('program').programFd(this.name);
  }

  attachTc(options: TcAttachOptions): TcLink {
    return this.#object.attachTc(this.name, options);
  }

  attach(): TracingLink {
    return this.#object.attach(this.name);
  }

  testRun(packet: Buffer, repeat = 1): TestRunResult {
    return this.#object.testRun(this.name, packet, repeat);
  }
}

const openObjects = new Set<BpfObject>();
let exitHookInstalled = false;

/**
 * One BPF object file: open → (set rodata, sizes, autoload) → load → use → close.
 * close() is idempotent and also detaches every link made through this object.
 */
export class BpfObject {
  readonly path: string;
  #handle: NativeObjectHandle | undefined;
  #loaded = false;
  #programs = new Map<string, NativeProgramInfo>();
  #maps = new Map<string, BpfMap>();
  #links = new Set<Detachable>();
  #readers = new Set<RingBufferReader>();

  private constructor(path: string, handle: NativeObjectHandle) {
    this.path = path;
    this.#handle = handle;
    for (const p of handle.programs()) this.#programs.set(p.name, p);
  }

  static open(path: string, options: OpenOptions = {}): BpfObject {
    if (typeof path !== 'string' || path.length === 0)
      throw invalidArg(`object path must be a non-empty string, got ${describe(path)}`);
    if (options === null || typeof options !== 'object') throw invalidArg('open options must be an object');
    if (!existsSync(path)) throw new BpfError('ENOENT', 2, 'open', `BPF object file not found: ${path}`);
    const object = new BpfObject(path, new native.ObjectHandle(path));
    try {
      object.#applyOptions(options);
    } catch (err) {
      object.close();
      throw err;
    }
    openObjects.add(object);
    installExitHook();
    return object;
  }

  /** open() then load(). */
  static load(path: string, options: OpenOptions = {}): BpfObject {
    const object = BpfObject.open(path, options);
    try {
      object.load();
    } catch (err) {
      object.close();
      throw err;
    }
    return object;
  }

  get closed(): boolean {
    return this.#handle === undefined;
  }

  get loaded(): boolean {
    return this.#loaded;
  }

  /** @internal */
  handle(
    step: 'program' | 'map' | 'attach' | 'attach-tc' | 'test-run' | 'load' | 'rodata' | 'ringbuf',
  ): NativeObjectHandle {
    if (this.#handle === undefined)
      throw new BpfError('ERR_CLOSED', 0, step, `BPF object ${this.path} is closed`);
    return this.#handle;
  }

  programNames(): string[] {
    return [...this.#programs.keys()];
  }

  mapNames(): string[] {
    return this.handle('map')
      .maps()
      .map((m) => m.name);
  }

  globals(): NativeGlobalInfo[] {
    return this.handle('rodata').globals();
  }

  load(): void {
    this.handle('load').load();
    this.#loaded = true;
  }

  program(name: string): BpfProgram {
    checkName('program name', name);
    this.handle('program');
    const info = this.#programs.get(name);
    if (!info)
      throw new BpfError(
        'ERR_NOT_FOUND',
        0,
        'program',
        `no program '${name}' in ${this.path} (programs: ${this.programNames().join(', ')})`,
      );
    return new BpfProgram(this, info);
  }

  map(name: string): BpfMap {
    checkName('map name', name);
    const handle = this.handle('map');
    const cached = this.#maps.get(name);
    if (cached) return cached;
    const info = handle.maps().find((m) => m.name === name);
    if (!info)
      throw new BpfError(
        'ERR_NOT_FOUND',
        0,
        'map',
        `no map '${name}' in ${this.path} (maps: ${this.mapNames().join(', ')})`,
      );
    const map = new BpfMap(handle.mapFd(name), info, this);
    this.#maps.set(name, map);
    return map;
  }

  attachTc(program: string | BpfProgram, options: TcAttachOptions): TcLink {
    const name = typeof program === 'string' ? program : program?.name;
    checkName('program name', name);
    const args = tcAttachArgs(options);
    const handle = this.handle('attach-tc');
    const nativeLink =
      args.kind === 'tcx'
        ? handle.attachTcx(
            name,
            args.ifindex,
            args.ifname,
            args.ingress,
            args.netnsPath,
            args.pin,
            args.priority && args.handle ? args.priority : 0,
            args.priority && args.handle ? args.handle : 0,
          )
        : handle.attachTc(
            name,
            args.ifindex,
            args.ifname,
            args.ingress,
            args.priority,
            args.handle,
            args.netnsPath,
            args.replace,
          );
    const link = new TcLink(nativeLink, name, options.direction, (l) => this.#links.delete(l));
    this.#links.add(link);
    return link;
  }

  attach(program: string | BpfProgram): TracingLink {
    const name = typeof program === 'string' ? program : program?.name;
    checkName('program name', name);
    const link = new TracingLink(this.handle('attach').attach(name), name, (l) => this.#links.delete(l));
    this.#links.add(link);
    return link;
  }

  testRun(program: string | BpfProgram, packet: Buffer, repeat = 1): TestRunResult {
    const name = typeof program === 'string' ? program : program?.name;
    checkName('program name', name);
    checkBuffer('packet', packet);
    checkInt('repeat', repeat, 1, 0xffffffff);
    const fd = this.handle('test-run').programFd(name);
    // room for programs that grow the packet (encapsulation)
    return native.testRun(fd, packet, repeat, packet.length + 512);
  }

  /** Starts a ring-buffer reader on a BPF_MAP_TYPE_RINGBUF map of this object (no handler: iterate it). */
  openRingBuffer(mapName: string, onBatch?: BatchHandler, options: RingBufferOptions = {}): RingBufferReader {
    const map = this.map(mapName);
    if (map.type !== 'ringbuf') throw invalidArg(`map ${mapName} is a ${map.type} map, not a ringbuf`);
    const reader = new RingBufferReader(map, onBatch, options);
    this.#readers.add(reader);
    reader.onClose = (r) => this.#readers.delete(r);
    return reader;
  }

  /** Idempotent: closes readers, detaches links made through this object, frees the object. */
  close(): void {
    if (this.#handle === undefined) return;
    for (const reader of this.#readers) reader.close();
    const errors: unknown[] = [];
    for (const link of this.#links) {
      try {
        link.detach();
      } catch (err) {
        errors.push(err);
      }
    }
    this.#links.clear();
    this.#readers.clear();
    this.#handle.close();
    this.#handle = undefined;
    this.#maps.clear();
    openObjects.delete(this);
    if (errors.length > 0) throw errors[0];
  }

  #applyOptions(options: OpenOptions): void {
    const handle = this.handle('rodata');
    for (const [name, autoload] of Object.entries(options.autoload ?? {})) {
      if (typeof autoload !== 'boolean')
        throw invalidArg(`autoload.${name} must be a boolean, got ${describe(autoload)}`);
      if (!this.#programs.has(name))
        throw new BpfError(
          'ERR_NOT_FOUND',
          0,
          'open',
          `autoload: no program '${name}' (programs: ${this.programNames().join(', ')})`,
        );
      handle.setAutoload(name, autoload);
    }
    for (const [name, entries] of Object.entries(options.maxEntries ?? {})) {
      checkInt(`maxEntries.${name}`, entries, 1, 0xffffffff);
      handle.setMaxEntries(name, entries);
    }
    for (const [name, map] of Object.entries(options.reuseMaps ?? {})) {
      if (!(map instanceof BpfMap))
        throw invalidArg(`reuseMaps.${name} must be a BpfMap, got ${describe(map)}`);
      handle.reuseMapFd(name, map.fd);
    }
    const rodata = options.rodata ?? {};
    if (Object.keys(rodata).length === 0) return;
    const globals = handle.globals();
    for (const [name, value] of Object.entries(rodata)) {
      const global = globals.find((g) => g.name === name);
      if (!global)
        throw new BpfError(
          'ERR_NOT_FOUND',
          0,
          'rodata',
          `no global '${name}' in ${this.path} (globals: ${globals.map((g) => g.name).join(', ') || 'none'})`,
        );
      handle.setGlobal(global.map, global.offset, encodeGlobal(name, global.size, value));
    }
  }
}

function encodeGlobal(name: string, size: number, value: GlobalValue): Buffer {
  if (Buffer.isBuffer(value)) {
    if (value.length !== size)
      throw invalidArg(`rodata ${name}: needs ${size} bytes, got a Buffer of ${value.length}`);
    return value;
  }
  let big: bigint;
  if (typeof value === 'boolean') big = value ? 1n : 0n;
  else if (typeof value === 'number' && Number.isInteger(value)) big = BigInt(value);
  else if (typeof value === 'bigint') big = value;
  else
    throw invalidArg(
      `rodata ${name}: value must be an integer, bigint, boolean or Buffer, got ${describe(value)}`,
    );
  if (![1, 2, 4, 8].includes(size))
    throw invalidArg(`rodata ${name}: a ${size}-byte global needs a Buffer value`);
  const bits = BigInt(size * 8);
  const min = -(1n << (bits - 1n));
  const max = (1n << bits) - 1n;
  if (big < min || big > max) throw invalidArg(`rodata ${name}: ${value} does not fit in ${size} bytes`);
  return writeLittleEndian(big, size);
}

function writeLittleEndian(value: bigint, size: number): Buffer {
  const out = Buffer.alloc(size);
  let v = BigInt.asUintN(size * 8, value);
  for (let i = 0; i < size; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Frees everything still open when the process exits normally (tc filters would outlive it). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const object of [...openObjects]) {
      try {
        object.close();
      } catch {
        // exiting anyway; the native cleanup hook retries what is left
      }
    }
  });
}

/** Counts of native resources still alive (for leak tests). */
export function liveResources(): { objects: number; links: number; tcLinks: number; ringBuffers: number } {
  return native.liveResources();
}
