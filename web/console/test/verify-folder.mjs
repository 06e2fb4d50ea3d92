// Runs the console's verifier over exported log folders (as `sios log export` writes them), for the cross-check
// against Sios.Verify's `sios verify log` (Sios.Cli.Tests). Usage: node test/verify-folder.mjs VKEYS_FILE DIR... ;
// prints one JSON line per folder: {"file":…,"ok":true|false,"failed":[the failed checks]} (file: the folder).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseVkey } from '../src/verify.js';
import { verifyLogFolder } from '../src/folder.js';

const [vkeysFile, ...folders] = process.argv.slice(2);
const vkeys = readFileSync(vkeysFile, 'utf8').split('\n').filter((l) => l.trim().length > 0).map(parseVkey);
for (const folder of folders) {
  // Paths relative to the folder, '/'-separated, as a browser's directory picker gives them (less the folder's name).
  const files = new Map(readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => {
      const full = path.join(d.parentPath ?? d.path, d.name);
      return [path.relative(folder, full).split(path.sep).join('/'), new Uint8Array(readFileSync(full))];
    }));
  const result = await verifyLogFolder(files, vkeys);
  console.log(JSON.stringify({ file: folder, ok: result.ok, failed: result.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`) }));
}
