// The in-namespace half of a loopback forward: node forward-main.js SOCKET HOST PORT
import { rmSync } from 'node:fs';
import { serveUnixToTcp } from './forward.js';

const [socketPath, host, port] = process.argv.slice(2);
if (!socketPath || !host || !port || !/^\d+$/.test(port)) {
  console.error('usage: forward-main.js SOCKET HOST PORT');
  process.exit(2);
}
const server = await serveUnixToTcp(socketPath, host, Number(port));
console.log(`forwarding ${socketPath} -> ${host}:${port}`);
const stop = () => {
  server.close();
  rmSync(socketPath, { force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
