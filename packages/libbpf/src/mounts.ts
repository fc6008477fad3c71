/**
 * The kernel filesystems BPF needs, mounted the way cilium-agent does it: a new machine boots
 * without bpffs at /sys/fs/bpf (pinning fails with ENOENT) and without tracefs (classic
 * tracepoints cannot resolve their ids). Callers say what they mounted, so nobody depends on
 * a mount someone once made by hand.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { BpfError } from './errors.js';

export const BPF_FS = '/sys/fs/bpf';
export const TRACE_FS = '/sys/kernel/tracing';

export interface MountResult {
  path: string;
  fsType: 'bpf' | 'tracefs';
  /** true when this call mounted it; false when it was already there */
  mountedNow: boolean;
}

/** Whether `path` is itself a mount point of `fsType` in this process's mount namespace. */
export function isMounted(path: string, fsType: string): boolean {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((line) => {
      const [, where, type] = line.split(' ');
      return where === path && type === fsType;
    });
}

function ensure(path: string, fsType: 'bpf' | 'tracefs', source: string): MountResult {
  if (isMounted(path, fsType)) return { path, fsType, mountedNow: false };
  try {
    mkdirSync(path, { recursive: true });
    execFileSync('mount', ['-t', fsType, source, path], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new BpfError(
      'ERR_MOUNT',
      0,
      'mount',
      `cannot mount ${fsType} at ${path}: ${stderr || (err as Error).message} (mount -t ${fsType} ${source} ${path} as root)`,
    );
  }
  return { path, fsType, mountedNow: true };
}

/** Mounts the BPF filesystem at /sys/fs/bpf unless it is there already (pins live in it). */
export function ensureBpfFs(path = BPF_FS): MountResult {
  return ensure(path, 'bpf', 'bpffs');
}

/** Mounts tracefs at /sys/kernel/tracing unless it is there already (classic tracepoints need it). */
export function ensureTraceFs(path = TRACE_FS): MountResult {
  return ensure(path, 'tracefs', 'tracefs');
}

/** Undoes a mount that ensureBpfFs/ensureTraceFs made (tests that leave the machine as they found it). */
export function unmountIfMountedNow(result: MountResult): void {
  if (result.mountedNow) execFileSync('umount', [result.path]);
}
