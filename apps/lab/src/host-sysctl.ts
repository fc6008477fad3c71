// The machine-wide kernel settings the lab changes while it runs, and how `lab down` puts them back.
//
// wireguard-go 0.0.20220316 (Debian 12's) never sizes its UDP socket, so it gets
// net.core.rmem_default (212,992 bytes here): about 90 full-size datagrams, which a busy 2-core
// machine overflows whenever wireguard-go's receiving goroutine waits for a CPU (11-18k
// SOCKET_RCVBUFF drops in a 4 s iperf3 transfer, and as many TCP retransmits inside the tunnel).
// A current wireguard-go asks for 7 MiB itself (SO_RCVBUFFORCE, conn/controlfns_linux.go), so
// a real node with it has that buffer; the lab gives the old binary the same through the default.
// On this kernel rmem_default is one value for the whole machine (a child namespace sees it
// read-only), so it is set in the root namespace, only ever raised, and restored at `lab down`.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { HOST_SYSCTL_FILE } from './names.js';

export interface HostSetting {
  /** under /proc/sys */
  path: string;
  /** applied only when the machine's value is lower */
  minimum: number;
}

export const HOST_SETTINGS: HostSetting[] = [{ path: '/proc/sys/net/core/rmem_default', minimum: 7 << 20 }];

const read = (path: string): string => readFileSync(path, 'utf8').trim();

/**
 * Raises every setting below its minimum, after writing the values it found to `savedFile` (first,
 * so that a crash in between still restores them). A saved file left by a lab that never came down
 * holds the machine's own values: it is kept, not overwritten with the lab's. Returns what it
 * changed, as `path: old -> new`.
 */
export function applyHostSettings(settings = HOST_SETTINGS, savedFile = HOST_SYSCTL_FILE): string[] {
  if (!existsSync(savedFile)) {
    const saved = Object.fromEntries(settings.map((s) => [s.path, read(s.path)]));
    writeFileSync(savedFile, `${JSON.stringify(saved, null, 2)}\n`);
  }
  const changed: string[] = [];
  for (const s of settings) {
    const current = read(s.path);
    if (Number(current) >= s.minimum) continue;
    writeFileSync(s.path, String(s.minimum));
    changed.push(`${s.path}: ${current} -> ${s.minimum}`);
  }
  return changed;
}

/** Writes back the values `applyHostSettings` saved, then forgets them; nothing saved: nothing to do. */
export function restoreHostSettings(savedFile = HOST_SYSCTL_FILE): void {
  if (!existsSync(savedFile)) return;
  const saved = JSON.parse(readFileSync(savedFile, 'utf8')) as Record<string, string>;
  for (const [path, value] of Object.entries(saved)) writeFileSync(path, value);
  rmSync(savedFile, { force: true });
}
