#!/usr/bin/env node
// Runs the compiled server in dist/ (`npm run build`; `npm start` builds first).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('userplane: dist/ is missing; run "npm run build" first (npm start builds it for you)\n');
  process.exit(1);
}
await import(entry.href);
