// Runs the console's verifier over receipt and attestation files (told apart by their first line), for the
// cross-check against Sios.Verify (Sios.Cli.Tests). Usage: node test/verify-receipts.mjs VKEYS_FILE FILE... ; prints
// one JSON line per file: {"file":…,"ok":true|false,"failed":[names of failed checks]}.
import { readFileSync } from 'node:fs';
import { parseVkey, verifyAttestation, verifyReceipt } from '../src/verify.js';

const [vkeysFile, ...files] = process.argv.slice(2);
const vkeys = readFileSync(vkeysFile, 'utf8').split('\n').filter((l) => l.trim().length > 0).map(parseVkey);
for (const file of files) {
  const bytes = new Uint8Array(readFileSync(file));
  const attestation = Buffer.from(bytes.subarray(0, 20)).toString('latin1') === 'sios-attestation/v1\n';
  const result = await (attestation ? verifyAttestation(bytes, vkeys) : verifyReceipt(bytes, vkeys));
  console.log(JSON.stringify({ file, ok: result.ok, failed: result.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`) }));
}
