// Bundles the tracker into dist/tracker/tracker.js and enforces its size budget.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET_GZIP_BYTES = 1000;
const entry = fileURLToPath(new URL('./tracker.ts', import.meta.url));
const outfile = fileURLToPath(new URL('../../dist/tracker/tracker.js', import.meta.url));

await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  minify: true,
  format: 'iife',
  // Old enough for every browser that has sendBeacon and history.pushState.
  target: ['es2017'],
  legalComments: 'none',
  logLevel: 'warning',
});

const code = readFileSync(outfile);
const gzipped = gzipSync(code, { level: 9 }).length;
console.log(`dist/tracker/tracker.js: ${code.length} bytes, ${gzipped} bytes gzipped (budget ${BUDGET_GZIP_BYTES})`);
if (gzipped > BUDGET_GZIP_BYTES) {
  console.error(`tracker.js is over budget by ${gzipped - BUDGET_GZIP_BYTES} bytes gzipped`);
  process.exit(1);
}
