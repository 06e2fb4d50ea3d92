// Bundles the console into dist/ (embedded in the server by Sios.Server.csproj): a script and a page for the gateway and
// for the witness, one stylesheet.
// Run by `npm run build`, by the .NET build when node_modules is present, and by .ci/run; never at run time.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';

const here = new URL('.', import.meta.url);
const out = new URL('dist/', here);
await mkdir(out, { recursive: true });
// The gateway's page (console.js) and the witness's (witness.js), each one self-contained script.
for (const [entry, bundle] of [['app.js', 'console.js'], ['witness.js', 'witness.js']]) {
  await build({
    entryPoints: [new URL(`src/${entry}`, here).pathname],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    outfile: new URL(bundle, out).pathname,
    legalComments: 'inline',
    logLevel: 'warning',
  });
}
for (const file of ['index.html', 'witness.html', 'console.css']) {
  await copyFile(new URL(`src/${file}`, here), new URL(file, out));
}
