// Verifies a SIOS checkpoint with code that shares nothing with SIOS: node:crypto for SHA-256 and
// @noble/post-quantum for ML-DSA. Usage: node verify-checkpoint.mjs NOTE_FILE ML_DSA_65_VKEY ML_DSA_44_VKEY
// Exit 0 when both signatures and both key IDs check out, 1 otherwise (the reason on stderr).
import { ml_dsa65, ml_dsa44 } from '@noble/post-quantum/ml-dsa.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const fail = (why) => { console.error(`FAIL: ${why}`); process.exit(1); };
const [noteFile, vkey65, vkey44] = process.argv.slice(2);
if (!vkey44) fail('usage: verify-checkpoint.mjs NOTE_FILE ML_DSA_65_VKEY ML_DSA_44_VKEY');

const text = readFileSync(noteFile).toString('utf8');
const split = text.lastIndexOf('\n\n');
const body = text.slice(0, split + 1);
const signatureLines = text.slice(split + 2, -1).split('\n');
const [origin, size, rootBase64] = body.split('\n');

// vkey = name + '+' + hex(key ID) + '+' + base64(type || key); base64 may itself contain '+'.
const parseVkey = (v) => {
  const i = v.indexOf('+'); const j = v.indexOf('+', i + 1);
  return { name: v.slice(0, i), id: v.slice(i + 1, j), material: Buffer.from(v.slice(j + 1), 'base64') };
};
const keyId = (name, material) =>
  createHash('sha256').update(Buffer.concat([Buffer.from(`${name}\n`), material])).digest().subarray(0, 4).toString('hex');
const u64 = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };

const k65 = parseVkey(vkey65);
const k44 = parseVkey(vkey44);
const oid65 = Buffer.from('ff0609608648016503040312', 'hex');
if (!k65.material.subarray(0, 12).equals(oid65)) fail('ML-DSA-65 vkey does not start with 0xff + DER(id-ml-dsa-65)');
if (k44.material[0] !== 0x06) fail('ML-DSA-44 vkey does not start with type 0x06');
if (keyId(k65.name, k65.material) !== k65.id) fail('ML-DSA-65 key ID is not SHA-256(name || 0x0A || type || key)[:4]');
if (keyId(k44.name, k44.material) !== k44.id) fail('ML-DSA-44 key ID is not SHA-256(name || 0x0A || 0x06 || key)[:4]');
if (k65.name !== origin || k44.name !== origin) fail('key names must equal the origin line');

let primary = false;
let cosigned = false;
for (const line of signatureLines) {
  const m = line.match(/^\u2014 (\S+) (\S+)$/);
  if (!m) fail(`malformed signature line: ${line.slice(0, 40)}`);
  const raw = Buffer.from(m[2], 'base64');
  const id = raw.subarray(0, 4).toString('hex');
  if (m[1] === k65.name && id === k65.id) {
    if (raw.length !== 4 + 3309) fail('ML-DSA-65 signature is not 3,309 bytes');
    primary = ml_dsa65.verify(raw.subarray(4), Buffer.from(body), k65.material.subarray(12));
  } else if (m[1] === k44.name && id === k44.id) {
    if (raw.length !== 4 + 8 + 2420) fail('ML-DSA-44 cosignature is not 8 + 2,420 bytes');
    const name = Buffer.from(k44.name);
    const log = Buffer.from(origin);
    const message = Buffer.concat([
      Buffer.from('subtree/v1\n\0'), Buffer.from([name.length]), name, raw.subarray(4, 12),
      Buffer.from([log.length]), log, u64(0), u64(size), Buffer.from(rootBase64, 'base64'),
    ]);
    cosigned = ml_dsa44.verify(raw.subarray(12), message, k44.material.subarray(1));
  }
}

if (!primary) fail('no valid ML-DSA-65 signature by the log');
if (!cosigned) fail('no valid ML-DSA-44 subtree/v1 cosignature by the log');
console.log(`ok: ${origin} size ${size}`);
