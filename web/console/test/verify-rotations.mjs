// Follows signer rotations as the console does: node test/verify-rotations.mjs KEYS DIR..., where KEYS lists the
// trusted vkeys, a line '# current', then the vkeys that sign now, and each DIR holds rotation-N.tlog-proof statements (as `sios key export-public --out` writes them). Prints one
// JSON line per DIR: {"file":DIR,"ok":…,"failed":[check names]}; ok means the statements lead from the trusted keys to
// the current ones (the log's ML-DSA keys; an added Ed25519 key is not part of a rotation).
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { followRotations, sameVkeys } from '../src/rotations.js';
import { KeyKinds, parseProof, parseVkey } from '../src/verify.js';

const [keysFile, ...dirs] = process.argv.slice(2);
const [trustedPart, currentPart] = (await readFile(keysFile, 'utf8')).split('# current\n');
const lines = (text) => (text ?? '').split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
const trusted = lines(trustedPart).map(parseVkey);
const current = lines(currentPart).map(parseVkey).filter((k) => k.kind === KeyKinds.mlDsa65 || k.kind === KeyKinds.mlDsa44Cosignature).map((k) => k.text);
for (const dir of dirs) {
  const names = (await readdir(dir)).filter((n) => /^rotation-[0-9]+\.tlog-proof$/.test(n)).sort((a, b) => parseInt(a.slice(9), 10) - parseInt(b.slice(9), 10));
  const rotations = [];
  for (const name of names) {
    const receipt = await readFile(join(dir, name), 'utf8');
    let index = -1n;
    try {
      index = parseProof(new TextEncoder().encode(receipt)).index;
    } catch {
      // followRotations reports the statement it cannot read.
    }
    rotations.push({ index, receipt });
  }
  const followed = await followRotations(trusted, rotations);
  const checks = [...followed.checks, { name: 'signing keys', ok: sameVkeys(followed.keys.map((k) => k.text), current) }];
  console.log(JSON.stringify({ file: dir, ok: checks.every((c) => c.ok), failed: checks.filter((c) => !c.ok).map((c) => c.name) }));
}
