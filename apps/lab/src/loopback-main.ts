// The root-namespace half of a loopback forward: node loopback-main.js PORT SOCKET
// (127.0.0.1:PORT -> a unix socket served inside a lab namespace).
import { listenLoopback } from './forward.js';

const [port, socketPath] = process.argv.slice(2);
if (!port || !/^\d+$/.test(port) || !socketPath) {
  console.error('usage: loopback-main.js PORT SOCKET');
  process.exit(2);
}
try {
  const forward = await listenLoopback(Number(port), socketPath);
  console.log(`forwarding 127.0.0.1:${forward.port} -> ${socketPath}`);
  const stop = () => {
    forward.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  console.error(
    code === 'EADDRINUSE'
      ? `127.0.0.1:${port} is already in use; stop what listens there (ss -ltnp 'sport = :${port}')`
      : `cannot listen on 127.0.0.1:${port}: ${(err as Error).message}`,
  );
  process.exit(1);
}
