// Runs the console's verifier over receipt files, for the cross-check against Sios.Verify (Sios.Cli.Tests).
// Usage: node test/verify-receipts.mjs VKEYS_FILE RECEIPT... ; prints one JSON line per receipt:
// {"file":…,"ok":true|false,"failed":[names of failed checks]}.
import { readFileSync } from 'node:fs';
import { parseVkey, verifyReceipt } from '../src/verify.js';

const [vkeysFile, ...files] = process.argv.slice(2);
const vkeys = readFileSync(vkeysFile, 'utf8').split('\n').filter((l) => l.trim().length > 0).map(parseVkey);
for (const file of files) {
  const result = await verifyReceipt(new Uint8Array(readFileSync(file)), vkeys);
  console.log(JSON.stringify({ file, ok: result.ok, failed: result.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`) }));
}
