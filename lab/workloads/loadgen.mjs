// Load generator for bench:live, run inside a pod namespace (`ip netns exec <pod netns> node
// loadgen.mjs`), never from the root namespace. Two modes, from WSL_WORKLOAD (JSON):
//
//   { "mode": "serve", "port": 5402 }
//     A minimal HTTP/1.1 server: answers every request with 200 and closes the connection itself,
//     so the TIME_WAIT state stays on the server side and the clients never run out of ports.
//
//   { "mode": "load", "targets": ["10.244.1.10:5402", ...], "rate": 300, "durationMs": 10000 }
//     Opens `rate` fresh TCP connections per second for durationMs, round-robin over the targets,
//     each carrying one `GET / HTTP/1.1` with `connection: close`, then exits and prints one JSON
//     line: {started, completed, failed, shed, seconds, errors}. Connections beyond maxInFlight
//     are shed (counted, not opened) rather than queued, so a slow lab lowers the achieved rate
//     instead of stretching the step. The process always ends: connections still open
//     drainMs after the step are destroyed.
//
// Plain node:net on both sides: node:http's per-request machinery would make the generator, not
// the agents, the bottleneck on a 2-core machine.
import { connect, createServer } from 'node:net';

const config = JSON.parse(process.env.WSL_WORKLOAD ?? '{}');
const RESPONSE =
  'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\nconnection: close\r\n\r\nok\n';

function serve() {
  const server = createServer((socket) => {
    let head = '';
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) socket.end(RESPONSE);
    });
    socket.on('error', () => socket.destroy());
  });
  server.listen(config.port ?? 5402, () => console.log(JSON.stringify({ listening: config.port ?? 5402 })));
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
}

function load() {
  const targets = config.targets.map((t) => {
    const [host, port] = t.split(':');
    return { host, port: Number(port), request: `GET / HTTP/1.1\r\nhost: ${t}\r\nconnection: close\r\n\r\n` };
  });
  const rate = config.rate;
  const durationMs = config.durationMs ?? 10_000;
  const maxInFlight = config.maxInFlight ?? 1024;
  const timeoutMs = config.timeoutMs ?? 3000;
  const drainMs = config.drainMs ?? 3000;
  const counts = { started: 0, completed: 0, failed: 0, shed: 0 };
  const errors = {};
  const open = new Set();
  let next = 0;
  let offered = 0;

  const fail = (code) => {
    counts.failed++;
    errors[code] = (errors[code] ?? 0) + 1;
  };
  const openOne = () => {
    const target = targets[next++ % targets.length];
    counts.started++;
    let answered = false;
    const socket = connect({ host: target.host, port: target.port, noDelay: true });
    open.add(socket);
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })),
    );
    socket.on('connect', () => socket.write(target.request));
    socket.on('data', (chunk) => {
      if (!answered && chunk.toString('latin1', 0, 12).startsWith('HTTP/1.1 200')) answered = true;
    });
    socket.on('error', (err) => fail(err.code ?? 'ERROR'));
    socket.on('close', (hadError) => {
      open.delete(socket);
      if (hadError) return; // counted by 'error'
      if (answered) counts.completed++;
      else fail('NO_RESPONSE');
    });
  };

  const startedAt = performance.now();
  // A 5 ms tick opens what the schedule says is due: the rate holds whatever the timer jitter.
  const pace = setInterval(() => {
    const elapsed = Math.min(performance.now() - startedAt, durationMs);
    const due = Math.floor((rate * elapsed) / 1000) - offered;
    for (let i = 0; i < due; i++) {
      offered++;
      if (open.size >= maxInFlight) counts.shed++;
      else openOne();
    }
    if (elapsed >= durationMs) finish();
  }, 5);

  let finished = false;
  function finish() {
    if (finished) return;
    finished = true;
    clearInterval(pace);
    const seconds = (performance.now() - startedAt) / 1000;
    const report = () => {
      clearInterval(poll);
      for (const socket of open) {
        fail('DRAINED');
        socket.destroy();
      }
      console.log(JSON.stringify({ ...counts, seconds, errors }));
      process.exit(0);
    };
    const poll = setInterval(() => open.size === 0 && report(), 20);
    setTimeout(report, drainMs);
  }
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, finish);
}

if (config.mode === 'serve') serve();
else if (config.mode === 'load') load();
else {
  console.error(`loadgen: mode must be "serve" or "load", got ${JSON.stringify(config.mode)}`);
  process.exit(2);
}
