// Bundles the console into dist/ (embedded in the server by Sios.Server.csproj): one script, one stylesheet, one page.
// Run by `npm run build`, by the .NET build when node_modules is present, and by .ci/run; never at run time.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';

const here = new URL('.', import.meta.url);
const out = new URL('dist/', here);
await mkdir(out, { recursive: true });
await build({
  entryPoints: [new URL('src/app.js', here).pathname],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  outfile: new URL('console.js', out).pathname,
  legalComments: 'inline',
  logLevel: 'warning',
});
for (const file of ['index.html', 'console.css']) {
  await copyFile(new URL(`src/${file}`, here), new URL(file, out));
}
