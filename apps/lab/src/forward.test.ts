import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, createConnection } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { listenLoopback, serveUnixToTcp } from './forward.js';

test('a loopback forward carries bytes both ways through the unix socket', async () => {
  const dir = mkdtempSync('/tmp/wsl-forward-');
  const echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  const echoPort = (echo.address() as { port: number }).port;
  const socketPath = join(dir, 'svc.sock');
  const inner = await serveUnixToTcp(socketPath, '127.0.0.1', echoPort);
  const outer = await listenLoopback(0, socketPath);
  const reply = await new Promise<string>((resolve, reject) => {
    const c = createConnection({ host: '127.0.0.1', port: outer.port }, () =>
      c.write('hello through the lab'),
    );
    c.on('data', (d) => {
      resolve(d.toString());
      c.destroy();
    });
    c.on('error', reject);
  });
  assert.equal(reply, 'hello through the lab');
  outer.close();
  await Promise.all([inner, echo].map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});
