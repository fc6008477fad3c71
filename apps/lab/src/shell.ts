import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_DIR, PID_DIR } from './names.js';

/** Runs a program without a shell; rejects with the command line and its stderr. */
export function run(file: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: 20_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err)
          reject(new Error(`${file} ${args.join(' ')}: ${(stderr || err.message).trim().split('\n')[0]}`));
        else resolve(stdout);
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Many `ip` commands in one process inside one namespace (`ip -n NS -batch -`). */
export async function ipBatch(namespace: string | undefined, commands: string[]): Promise<void> {
  if (commands.length === 0) return;
  await run('ip', [...(namespace ? ['-n', namespace] : []), '-batch', '-'], `${commands.join('\n')}\n`);
}

export function inNamespace(namespace: string, file: string, args: string[]): Promise<string> {
  return run('ip', ['netns', 'exec', namespace, file, ...args]);
}

export interface Daemon {
  name: string;
  namespace: string;
  pid: number;
  log: string;
  /** Kept so that `lab start NAME` can restart exactly the same process. */
  argv: string[];
  env: Record<string, string>;
}

/**
 * Starts a long-running process inside a namespace ('' for the root one), detached (its own process group), with its
 * output in LOG_DIR and its pid in PID_DIR. `ip netns exec` execs the program, so the pid is its own.
 */
export function startDaemon(
  name: string,
  namespace: string,
  argv: string[],
  env: Record<string, string> = {},
  /** Told how the process ended, if this process is still running then (its parent reaps it). */
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void,
): Daemon {
  const log = join(LOG_DIR, `${name}.log`);
  const fd = openSync(log, 'a');
  // An empty namespace is the root one (the loopback half of a forward).
  const [file, ...args] = namespace === '' ? argv : ['ip', 'netns', 'exec', namespace, ...argv];
  const child = spawn(file as string, args, {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env },
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name} in ${namespace}`);
  child.unref();
  if (onExit) child.once('exit', onExit);
  writeFileSync(join(PID_DIR, `${name}.pid`), `${child.pid}\n`);
  return { name, namespace, pid: child.pid, log, argv, env };
}
