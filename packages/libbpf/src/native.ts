// Loads the compiled addon and describes its surface. Only this package's wrapper uses it.
import { createRequire } from 'node:module';
import { BpfError, type BpfStep } from './errors.js';

export interface NativeProgramInfo {
  name: string;
  section: string;
  type: string;
  autoload: boolean;
}
export interface NativeMapInfo {
  name: string;
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  internal?: boolean;
  id?: number;
}
export interface NativeGlobalInfo {
  name: string;
  section: string;
  map: string;
  offset: number;
  size: number;
}
export interface NativeObjectHandle {
  programs(): NativeProgramInfo[];
  maps(): NativeMapInfo[];
  globals(): NativeGlobalInfo[];
  setGlobal(map: string, offset: number, value: Buffer): void;
  setMaxEntries(map: string, maxEntries: number): void;
  reuseMapFd(map: string, fd: number): void;
  setAutoload(program: string, autoload: boolean): void;
  load(): void;
  mapFd(map: string): number;
  programFd(program: string): number;
  attach(program: string): NativeLinkHandle;
  attachTc(
    program: string,
    ifindex: number,
    ifname: string | undefined,
    ingress: boolean,
    priority: number,
    handle: number,
    netnsPath: string | undefined,
    replace: boolean,
  ): NativeTcLinkHandle;
  attachTcx(
    program: string,
    ifindex: number,
    ifname: string | undefined,
    ingress: boolean,
    netnsPath: string | undefined,
    pinPath: string | undefined,
    filterPriority: number,
    filterHandle: number,
  ): NativeTcLinkHandle;
  close(): void;
}
export interface NativeLinkHandle {
  detach(): void;
}
export interface NativeTcLinkHandle {
  detach(): void;
  info(): {
    ifindex: number;
    handle: number;
    priority: number;
    attached: boolean;
    kind: 'filter' | 'tcx';
    linkId: number;
    takenOver: boolean;
    programId: number;
  };
  state(): TcFilterState;
}
/** What the kernel runs at a tc link's hook, handle and priority: see TcLink.state(). */
export type TcFilterState = 'present' | 'missing' | 'no-interface' | 'detached';
export interface NativeRingBufferHandle {
  pause(): void;
  resume(): void;
  drain(): number;
  stats(): { records: number; batches: number; bytes: number };
  close(): void;
}
export type NativeBatchCallback = (
  slab: Buffer,
  byteOffset: number,
  byteLength: number,
  offsets: Uint32Array,
) => void;

export interface NativeAddon {
  ObjectHandle: new (path: string) => NativeObjectHandle;
  RingBufferHandle: new (
    mapFd: number,
    callback: NativeBatchCallback,
    batchBytes: number,
    reuseBuffer: boolean,
  ) => NativeRingBufferHandle;
  mapLookup(fd: number, key: Buffer, valueSize: number): Buffer | null;
  mapUpdate(fd: number, key: Buffer, value: Buffer, flags: number): void;
  mapDelete(fd: number, key: Buffer): boolean;
  mapNextKey(fd: number, key: Buffer | null, keySize: number): Buffer | null;
  objPin(fd: number, path: string): void;
  objGet(path: string): number;
  mapInfo(fd: number): NativeMapInfo;
  closeFd(fd: number): void;
  numPossibleCpus(): number;
  testRun(
    fd: number,
    packet: Buffer,
    repeat: number,
    outSize: number,
  ): { retval: number; durationNs: number; dataOut: Buffer };
  ifNameToIndex(name: string): number;
  tcxPrograms(
    ifindex: number,
    ifname: string | undefined,
    ingress: boolean,
    netnsPath: string | undefined,
  ): number[];
  detachPinnedTcx(path: string): boolean;
  setErrorFactory(
    factory: (code: string, errno: number, step: BpfStep, message: string, log: string) => Error,
  ): void;
  setLogEcho(on: boolean): void;
  liveResources(): { objects: number; links: number; tcLinks: number; ringBuffers: number };
}

const require = createRequire(import.meta.url);

function loadAddon(): NativeAddon {
  try {
    return require('../build/Release/wirescope_libbpf.node') as NativeAddon;
  } catch (err) {
    throw new BpfError(
      'ENOENT',
      0,
      'open',
      `@wirescope/libbpf: native addon not built (${(err as Error).message.split('\n')[0]}); run: npx turbo run build --filter=@wirescope/libbpf`,
    );
  }
}

export const native: NativeAddon = loadAddon();
native.setErrorFactory((code, errno, step, message, log) => new BpfError(code, errno, step, message, log));
if (process.env['WIRESCOPE_LIBBPF_DEBUG']) native.setLogEcho(true);
