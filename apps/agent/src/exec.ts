import { execFile } from 'node:child_process';
import { AgentError, AgentErrorCode } from './errors.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

/** Runs a program (no shell); rejects with COMMAND_FAILED naming the command and its stderr. */
export function run(file: string, args: string[], options: { timeoutMs?: number } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: options.timeoutMs ?? 10_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const detail = (stderr || err.message).trim().split('\n')[0];
          reject(new AgentError(AgentErrorCode.COMMAND_FAILED, `${file} ${args.join(' ')}: ${detail}`));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}
