// Writes flag-matrix.json: what parseObserveArgs gives for every argument list of flag-matrix.ts.
// Run it only when a change of observe's parse is meant: node --import tsx record.ts
import { writeFileSync } from 'node:fs';
import { flagMatrix } from './flag-matrix.js';
import { observeSnapshot } from './snapshot.js';

// one argument list a line, so a change of the parse shows in a diff as the lists it touches
const lines = flagMatrix.map(
  (args) => `${JSON.stringify(JSON.stringify(args))}: ${JSON.stringify(observeSnapshot(args))}`,
);
writeFileSync(new URL('./flag-matrix.json', import.meta.url), `{\n${lines.join(',\n')}\n}\n`);
console.log(`recorded ${flagMatrix.length} argument lists`);
