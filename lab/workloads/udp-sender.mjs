// UDP sender pod: datagrams to a port nobody listens on, so the receiver answers ICMP port
// unreachable (a real drop for observability to see).
import { createSocket } from 'node:dgram';
import { config, log, onSignals, resolveHost } from './common.mjs';

const socket = createSocket('udp4');
socket.on('error', () => {}); // ICMP errors surface here on some kernels; they are the point.
let sent = 0;
async function tick() {
  try {
    const address = await resolveHost(config.target);
    socket.send(`probe ${sent++}`, config.port, address);
  } catch (err) {
    log(`cannot send to ${config.target}:${config.port}: ${err.message}`);
  }
}
const timer = setInterval(() => void tick(), config.intervalMs ?? 1000);
void tick();
log(`udp-sender to ${config.target}:${config.port} every ${config.intervalMs ?? 1000} ms`);
onSignals(() => {
  clearInterval(timer);
  socket.close();
});
