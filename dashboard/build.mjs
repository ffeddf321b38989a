// Bundles the dashboard into one JS file, one CSS file and index.html in
// the directory given as the first argument (default: dist/). Run by
// crates/berth-dashboard/build.rs, which embeds the result in `berth`.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const out = process.argv[2] || 'dist';
mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: ['src/main.jsx'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox110'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outfile: join(out, 'app.js'),
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync('index.html', join(out, 'index.html'));
// Served to browsers that accept gzip (all of them): xterm.js is most of it.
for (const f of ['app.js', 'app.css']) {
  writeFileSync(join(out, f + '.gz'), gzipSync(readFileSync(join(out, f)), { level: 9 }));
}
const kb = (f) => (statSync(join(out, f)).size / 1024).toFixed(1);
console.error(`dashboard bundle: app.js ${kb('app.js')} kB (${kb('app.js.gz')} kB gzip), app.css ${kb('app.css')} kB`);
