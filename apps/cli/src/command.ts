/** API: every `wirescope <name>` is a module under commands/ exporting `command`. */
export interface Command {
  /** One line for `wirescope --help`. */
  summary: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

/** A user mistake: printed as one line (no stack) and exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
