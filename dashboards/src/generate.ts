// npm run generate -w @wirescope/dashboards: writes grafana/dashboards/*.json from the table.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAll, dashboardJson } from './build.js';
import { dashboardsDir } from './paths.js';

mkdirSync(dashboardsDir, { recursive: true });
for (const [file, dashboard] of buildAll()) {
  writeFileSync(join(dashboardsDir, file), dashboardJson(dashboard));
  console.log(`wrote ${join(dashboardsDir, file)}`);
}
