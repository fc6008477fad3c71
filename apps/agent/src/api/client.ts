import { request } from 'node:http';

/** Calls the agent's local API over its unix socket; rejects with the agent's error message. */
export function agentRequest<T>(
  socketPath: string,
  method: 'GET' | 'POST',
  path: string,
  timeoutMs = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          reject(new Error(`agent at ${socketPath} answered ${res.statusCode} with non-JSON`));
          return;
        }
        if ((res.statusCode ?? 500) >= 400) {
          const message =
            (body as { error?: { message?: string } }).error?.message ?? `HTTP ${res.statusCode}`;
          reject(new Error(message));
        } else {
          resolve(body as T);
        }
      });
    });
    req.on('timeout', () =>
      req.destroy(new Error(`agent at ${socketPath} did not answer within ${timeoutMs} ms`)),
    );
    req.on('error', (err) => reject(new Error(`agent at ${socketPath} unreachable: ${err.message}`)));
    req.end();
  });
}
