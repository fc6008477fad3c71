// Writes flag-matrix.json: what parseObserveArgs gives for every argument list of flag-matrix.ts.
// Run it only when a change of observe's parse is meant: node --import tsx record.ts
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { flagMatrix } from './flag-matrix.js';
import { observeSnapshot } from './snapshot.js';

const path = fileURLToPath(new URL('./flag-matrix.json', import.meta.url));
const fixture = Object.fromEntries(flagMatrix.map((args) => [JSON.stringify(args), observeSnapshot(args)]));
// formatted as the repository's `prettier --check .` wants it
const text = await format(JSON.stringify(fixture), { ...(await resolveConfig(path)), filepath: path });
writeFileSync(path, text);
console.log(`recorded ${flagMatrix.length} argument lists`);
