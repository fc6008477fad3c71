/**
 * The one error type of @wirescope/libbpf. `code` is an errno name from the kernel or libbpf
 * (ENOENT, EPERM, ENODEV, ...) or one of the package's own codes below; `step` says which
 * stage failed; `log` holds libbpf's last messages (e.g. the verifier log on a failed load).
 */
export const BPF_ERROR_CODES = {
  ERR_INVALID_ARG: 'an argument has the wrong type or is out of range',
  ERR_CLOSED: 'the object, map, link or reader was already closed',
  ERR_NOT_FOUND: 'no program, map or global of that name in the object',
  ERR_NOT_LOADED: 'the operation needs a loaded object (call load() first)',
  ERR_ALREADY_LOADED: 'the operation is only possible before load()',
  ERR_NOT_ROOT: 'BPF and tc need root (CAP_BPF, CAP_NET_ADMIN)',
  ERR_MOUNT: 'bpffs or tracefs is not mounted and mounting it failed',
} as const;

export type BpfOwnErrorCode = keyof typeof BPF_ERROR_CODES;

export type BpfStep =
  | 'args'
  | 'open'
  | 'rodata'
  | 'load'
  | 'program'
  | 'map'
  | 'pin'
  | 'mount'
  | 'attach'
  | 'attach-tc'
  | 'query-tc'
  | 'detach'
  | 'test-run'
  | 'ringbuf';

export class BpfError extends Error {
  override readonly name = 'BpfError';
  constructor(
    /** errno name (e.g. 'ENOENT') or a BpfOwnErrorCode */
    readonly code: string,
    /** positive errno, 0 when the error did not come from a system call */
    readonly errno: number,
    readonly step: BpfStep,
    message: string,
    /** libbpf's own last messages before the failure (verifier log on load errors) */
    readonly log = '',
  ) {
    super(log ? `${message}\n${lastLines(log, 40)}` : message);
  }
}

function lastLines(text: string, count: number): string {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-count).join('\n');
}

export function invalidArg(message: string): BpfError {
  return new BpfError('ERR_INVALID_ARG', 0, 'args', message);
}
