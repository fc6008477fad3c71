import { invalidArg } from './errors.js';

export function checkBpffsPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || !path.startsWith('/sys/fs/bpf/') || path.includes('..'))
    throw invalidArg(
      `pin path must be a string under /sys/fs/bpf/ without '..', got ${JSON.stringify(path)}`,
    );
}

export function checkName(what: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0)
    throw invalidArg(`${what} must be a non-empty string, got ${describe(value)}`);
}

export function checkInt(what: string, value: unknown, min: number, max: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw invalidArg(`${what} must be an integer in ${min}..${max}, got ${describe(value)}`);
}

export function checkBuffer(what: string, value: unknown): asserts value is Buffer {
  if (!Buffer.isBuffer(value)) throw invalidArg(`${what} must be a Buffer, got ${describe(value)}`);
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  return Buffer.isBuffer(value) ? `Buffer(${value.length})` : (value.constructor?.name ?? 'object');
}
