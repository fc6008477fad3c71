#!/usr/bin/env node
// npm links workspace bins during `npm ci`, which runs before the build: a bin pointing into
// dist/ would not exist then and npm would skip the link. This committed entry is what npm links;
// it runs the build's output, or says how to produce it.
import { existsSync } from 'node:fs';

const built = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(built)) {
  console.error(
    'wirescope: the CLI is not built yet: run `bash scripts/setup.sh` (npm test and npm run demo do it)',
  );
  process.exit(1);
}
await import(built.href);
