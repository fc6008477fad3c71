const CLOSED_OUTPUT = new Set(['EPIPE', 'ERR_STREAM_DESTROYED']);

/**
 * `lab up | head -3` closes our stdout long before the lab is built. `head` leaving is no request
 * to abort a build half-way, so what is written to a closed stdout or stderr is dropped and the
 * command goes on to the end (and its exit code). Any other output error still ends the process.
 */
export function keepGoingWhenOutputCloses(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (!CLOSED_OUTPUT.has(err.code ?? '')) throw err;
    });
  }
}
