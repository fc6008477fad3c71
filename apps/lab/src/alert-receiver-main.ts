// The lab's Alertmanager webhook receiver: node alert-receiver-main.js PORT FILE. Every POST body
// (Alertmanager's webhook JSON) is appended to FILE as one line, for tests and `lab status`.
import { createServer } from 'node:http';
import { appendFileSync } from 'node:fs';

const [port, file] = process.argv.slice(2);
if (!port || !/^\d+$/.test(port) || !file) {
  console.error('usage: alert-receiver-main.js PORT FILE');
  process.exit(2);
}
const server = createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    try {
      appendFileSync(file, `${JSON.stringify(JSON.parse(body))}\n`);
      res.writeHead(200).end();
    } catch (err) {
      console.error(`alert-receiver: not JSON (${(err as Error).message}): ${body.slice(0, 200)}`);
      res.writeHead(400).end();
    }
  });
});
server.listen(Number(port), '127.0.0.1', () => console.log(`alert receiver on 127.0.0.1:${port} -> ${file}`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
