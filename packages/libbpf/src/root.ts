import { BpfError } from './errors.js';

/** Throws one clear line when the process cannot do BPF and tc work. */
export function requireRoot(what = 'this'): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    throw new BpfError(
      'ERR_NOT_ROOT',
      1,
      'args',
      `${what} must run as root (BPF, tc and network namespaces need it): sudo -E ${process.argv.slice(0, 2).join(' ')}`,
    );
}
