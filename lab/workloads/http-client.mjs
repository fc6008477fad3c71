// HTTP client pod: a steady, modest request stream to one target (logs only status changes).
import { config, log, onSignals } from './common.mjs';
import { httpGet } from './http.mjs';

let last = '';
async function tick() {
  let outcome;
  try {
    outcome = `HTTP ${(await httpGet(config.target)).status}`;
  } catch (err) {
    outcome = `error: ${err.message}`;
  }
  if (outcome !== last) log(`${config.target}: ${outcome}`);
  last = outcome;
}
const timer = setInterval(() => void tick(), config.intervalMs ?? 1000);
void tick();
onSignals(() => clearInterval(timer));
