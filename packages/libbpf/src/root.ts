import { BpfError } from './errors.js';

/** Throws one clear line (what needs root, and the command that fixes it) when not root. */
export function requireRoot(
  what = 'this',
  fix = `sudo ${process.argv0} ${process.execArgv.join(' ')} ${process.argv.slice(1).join(' ')}`,
): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    throw new BpfError(
      'ERR_NOT_ROOT',
      1,
      'args',
      `${what} must run as root (BPF, tc and network namespaces need it): ${fix}`,
    );
}
