import { execFile } from 'node:child_process';
import { AgentError, AgentErrorCode } from './errors.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs?: number;
  /** written to the program's stdin, which is then closed */
  input?: string;
  /** a non-zero exit still resolves with what it printed (`ip -force -batch`: one failed command) */
  allowFailure?: boolean;
}

/** Runs a program (no shell); rejects with COMMAND_FAILED naming the command and its stderr. */
export function run(file: string, args: string[], options: RunOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: options.timeoutMs ?? 10_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && options.allowFailure && typeof err.code === 'number') {
          resolve({ stdout, stderr });
        } else if (err) {
          const detail = (stderr || err.message).trim().split('\n')[0];
          reject(new AgentError(AgentErrorCode.COMMAND_FAILED, `${file} ${args.join(' ')}: ${detail}`));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
