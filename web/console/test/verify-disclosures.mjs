// Runs the console's verifier over disclosure folders, for the cross-check against Sios.Verify (Sios.EndToEnd).
// Usage: node test/verify-disclosures.mjs VKEYS_FILE FOLDER... ; prints one JSON line per folder:
// {"file":…,"ok":true|false,"failed":[the failed checks]} (file: the folder).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseVkey, verifyDisclosure } from '../src/verify.js';

const [vkeysFile, ...folders] = process.argv.slice(2);
const vkeys = readFileSync(vkeysFile, 'utf8').split('\n').filter((l) => l.trim().length > 0).map(parseVkey);
for (const folder of folders) {
  const files = Object.fromEntries(readdirSync(folder).map((name) => [name, new Uint8Array(readFileSync(path.join(folder, name)))]));
  const result = await verifyDisclosure(files, vkeys);
  console.log(JSON.stringify({ file: folder, ok: result.ok, failed: result.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`) }));
}
