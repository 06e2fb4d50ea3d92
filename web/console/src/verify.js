// The console's verifier: everything a regulator's browser checks, with code that shares nothing with the server.
// C2SP signed-note, tlog-checkpoint, tlog-cosignature and tlog-proof are parsed by hand; ML-DSA-65/44 signatures are
// checked by @noble/post-quantum, Ed25519 by WebCrypto, SHA-256 by @noble/hashes. Every check is reported on its own,
// so a page can show which one failed; nothing here throws for bad input, it reports it.
import { ml_dsa44, ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { sha256 } from '@noble/hashes/sha2.js';

const encoder = new TextEncoder();
const strict = new TextDecoder('utf-8', { fatal: true });
const ML_DSA_65_TYPE = hex('ff0609608648016503040312');
const MAX_PROOF_BYTES = 1 << 20;
const MAX_PROOF_HASHES = 63;

/** The kinds of key a vkey can name, by the signature type its key material starts with. */
export const KeyKinds = Object.freeze({ mlDsa65: 'ML-DSA-65 signature', mlDsa44Cosignature: 'ML-DSA-44 cosignature', ed25519: 'Ed25519 signature', ed25519Cosignature: 'Ed25519 cosignature' });

/** Parses a vkey `name+hex(keyID)+base64(type || key)`; throws a message naming what is wrong. */
export function parseVkey(text) {
  const vkey = String(text).trim();
  const first = vkey.indexOf('+');
  const second = vkey.indexOf('+', first + 1);
  if (first <= 0 || second < 0 || second - first !== 9) throw new Error('a vkey is name+keyid+key (8 hex digits of key ID)');
  const name = vkey.slice(0, first);
  const id = hex(vkey.slice(first + 1, second));
  const material = base64(vkey.slice(second + 1));
  if (!id || !material || material.length < 2) throw new Error('the vkey key ID or key is not valid hex/base64');
  let kind; let key; let type;
  if (startsWith(material, ML_DSA_65_TYPE) && material.length === 12 + 1952) {
    [kind, type, key] = [KeyKinds.mlDsa65, ML_DSA_65_TYPE, material.subarray(12)];
  } else if (material[0] === 0x06 && material.length === 1 + 1312) {
    [kind, type, key] = [KeyKinds.mlDsa44Cosignature, material.subarray(0, 1), material.subarray(1)];
  } else if (material[0] === 0x01 && material.length === 33) {
    [kind, type, key] = [KeyKinds.ed25519, material.subarray(0, 1), material.subarray(1)];
  } else if (material[0] === 0x04 && material.length === 33) {
    [kind, type, key] = [KeyKinds.ed25519Cosignature, material.subarray(0, 1), material.subarray(1)];
  } else {
    throw new Error('the vkey names a key type this verifier does not know');
  }
  if (!equal(keyId(name, material), id)) throw new Error(`the key ID of ${name} is not SHA-256(name || 0x0A || type || key)[:4]`);
  return { name, id, kind, type, key, text: vkey };
}

/** The C2SP key ID: SHA-256(name || 0x0A || type || key)[:4]. */
export function keyId(name, material) {
  return sha256(concat(encoder.encode(`${name}\n`), material)).subarray(0, 4);
}

/** Splits a signed note into its text (ending in a newline) and its signature lines; throws naming the flaw. */
export function parseNote(bytes) {
  const text = utf8(bytes, 'the note');
  const split = text.lastIndexOf('\n\n');
  if (split < 0 || !text.endsWith('\n')) throw new Error('a note is its text, a blank line and signature lines, ending in a newline');
  const body = text.slice(0, split + 1);
  const signatures = text.slice(split + 2, -1).split('\n').map((line) => {
    const match = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/u.exec(line);
    const raw = match && base64(match[2]);
    if (!raw || raw.length < 5) throw new Error(`a signature line is not "\u2014 name base64": ${line.slice(0, 40)}`);
    return { name: match[1], id: raw.subarray(0, 4), signature: raw.subarray(4) };
  });
  if (signatures.length === 0) throw new Error('the note has no signature lines');
  return { body, signatures };
}

/** Parses a tlog-checkpoint text: origin, decimal size, base64 root, optional extension lines. */
export function parseCheckpoint(body) {
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3 || lines[0].length === 0) throw new Error('a checkpoint has an origin, a size and a root line');
  if (!/^(0|[1-9][0-9]{0,18})$/.test(lines[1])) throw new Error('the checkpoint size is not a decimal number');
  const root = base64(lines[2]);
  if (!root || root.length !== 32) throw new Error('the checkpoint root is not 32 bytes of base64');
  return { origin: lines[0], size: BigInt(lines[1]), root, extensions: lines.slice(3) };
}

/**
 * Checks a signed checkpoint against the vkeys given: one check per vkey (a key with no line, or a line that does not
 * verify, fails), lines by other keys ignored, as SPEC §6 says. Resolves to { checkpoint, checks, ok }.
 */
export async function verifyCheckpoint(noteBytes, vkeys) {
  const checks = [];
  let note; let checkpoint;
  try {
    note = parseNote(noteBytes);
    checkpoint = parseCheckpoint(note.body);
    checks.push(pass('checkpoint format', `${checkpoint.origin}, size ${checkpoint.size}`));
  } catch (e) {
    return { ok: false, checks: [fail('checkpoint format', e.message)] };
  }
  for (const vkey of vkeys) {
    const lines = note.signatures.filter((s) => s.name === vkey.name && equal(s.id, vkey.id));
    const name = `${vkey.kind} by ${vkey.name}+${toHex(vkey.id)}`;
    if (lines.length === 0) {
      checks.push(fail(name, 'the checkpoint carries no line by this key'));
      continue;
    }
    let verified = false; let why = 'the signature does not verify';
    for (const line of lines) {
      try {
        verified ||= await verifyLine(vkey, line.signature, note.body, checkpoint);
      } catch (e) {
        why = e.message;
      }
    }
    checks.push(verified ? pass(name, 'verified') : fail(name, why));
  }
  return { ok: checks.every((c) => c.ok), checkpoint, checks };
}

async function verifyLine(vkey, signature, body, checkpoint) {
  switch (vkey.kind) {
    case KeyKinds.mlDsa65:
      if (signature.length !== 3309) throw new Error('an ML-DSA-65 signature is 3,309 bytes');
      return ml_dsa65.verify(signature, encoder.encode(body), vkey.key);
    case KeyKinds.mlDsa44Cosignature: {
      if (signature.length !== 8 + 2420) throw new Error('an ML-DSA-44 cosignature is a timestamp and 2,420 bytes');
      const message = subtreeMessage(vkey.name, signature.subarray(0, 8), checkpoint.origin, checkpoint.size, checkpoint.root);
      return ml_dsa44.verify(signature.subarray(8), message, vkey.key);
    }
    case KeyKinds.ed25519:
      if (signature.length !== 64) throw new Error('an Ed25519 signature is 64 bytes');
      return ed25519(vkey.key, signature, encoder.encode(body));
    case KeyKinds.ed25519Cosignature: {
      if (signature.length !== 8 + 64) throw new Error('an Ed25519 cosignature is a timestamp and 64 bytes');
      const time = new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0);
      return ed25519(vkey.key, signature.subarray(8), encoder.encode(`cosignature/v1\ntime ${time}\n${body}`));
    }
    default:
      throw new Error('unknown key kind');
  }
}

/** The tlog-cosignature subtree/v1 message for the subtree [0, size) with the given 8-byte timestamp. */
export function subtreeMessage(cosigner, timestamp, origin, size, root) {
  const name = encoder.encode(cosigner);
  const log = encoder.encode(origin);
  if (name.length < 1 || name.length > 255 || log.length < 1 || log.length > 255) throw new Error('a cosigner name and an origin are 1 to 255 bytes');
  return concat(encoder.encode('subtree/v1\n\0'), [name.length], name, timestamp, [log.length], log, u64(0n), u64(size), root);
}

async function ed25519(key, signature, message) {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('this browser has no WebCrypto');
  const imported = await subtle.importKey('raw', key, { name: 'Ed25519' }, false, ['verify']);
  return subtle.verify({ name: 'Ed25519' }, imported, signature, message);
}

/** RFC 6962 leaf hash: SHA-256(0x00 || entry). */
export function leafHash(entry) {
  return sha256(concat([0], entry));
}

function nodeHash(left, right) {
  return sha256(concat([1], left, right));
}

/** RFC 9162 §2.1.3.2: whether proof takes the leaf at index to root in a tree of size. */
export function verifyInclusion(index, size, leaf, proof, root) {
  if (index >= size) return false;
  let fn = index; let sn = size - 1n; let r = leaf;
  for (const p of proof) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n && equal(r, root);
}

/** Parses a c2sp.org/tlog-proof@v1 text: extra (base64), index, proof hashes, then the signed checkpoint verbatim. */
export function parseProof(bytes) {
  if (bytes.length > MAX_PROOF_BYTES) throw new Error(`a receipt is at most ${MAX_PROOF_BYTES} bytes`);
  const end = indexOf(bytes, [10, 10]);
  if (end < 0) throw new Error('the receipt has no blank line before its checkpoint');
  const lines = utf8(bytes.subarray(0, end), 'the receipt header').split('\n');
  if (lines[0] !== 'c2sp.org/tlog-proof@v1') throw new Error('the receipt does not start with c2sp.org/tlog-proof@v1');
  let at = 1; let extra = null;
  if (lines[at]?.startsWith('extra ')) {
    extra = base64(lines[at].slice(6));
    if (!extra) throw new Error('the extra line is not base64');
    at++;
  }
  const index = /^index (0|[1-9][0-9]{0,18})$/.exec(lines[at] ?? '');
  if (!index) throw new Error('the receipt has no valid index line');
  const proof = lines.slice(at + 1).map((line, i) => {
    const hash = base64(line);
    if (!hash || hash.length !== 32) throw new Error(`inclusion proof hash ${i} is not 32 bytes of base64`);
    return hash;
  });
  if (proof.length > MAX_PROOF_HASHES) throw new Error(`an inclusion proof has at most ${MAX_PROOF_HASHES} hashes`);
  return { extra, index: BigInt(index[1]), proof, note: bytes.subarray(end + 2) };
}

/**
 * Checks a receipt: its format, the checkpoint's signatures by every vkey given, and the entry's inclusion under that
 * checkpoint. Resolves to { ok, index, entry (bytes), checkpoint, checks }.
 */
export async function verifyReceipt(bytes, vkeys) {
  let receipt;
  try {
    receipt = parseProof(bytes);
  } catch (e) {
    return { ok: false, checks: [fail('receipt format', e.message)] };
  }
  const checks = [pass('receipt format', `entry ${receipt.index}, ${receipt.proof.length} proof hashes`)];
  const signed = await verifyCheckpoint(receipt.note, vkeys);
  checks.push(...signed.checks);
  if (!receipt.extra) {
    checks.push(fail('entry inclusion', 'the receipt carries no entry (extra line)'));
  } else if (signed.checkpoint) {
    const included = verifyInclusion(receipt.index, signed.checkpoint.size, leafHash(receipt.extra), receipt.proof, signed.checkpoint.root);
    checks.push(included
      ? pass('entry inclusion', `entry ${receipt.index} is in the tree of size ${signed.checkpoint.size}`)
      : fail('entry inclusion', `the proof does not take entry ${receipt.index} to the checkpoint's root`));
  }
  return { ok: checks.every((c) => c.ok), index: receipt.index, entry: receipt.extra, checkpoint: signed.checkpoint, checks };
}

/**
 * Checks a sios-attestation/v1 statement: a signed note whose text starts with that line and names the origin, signed
 * by the log's ML-DSA-65 key (one of the vkeys given), which the statement lists among its signers. Resolves to
 * { ok, lines (keyword, value), statement ('sha256:' + hex of the signed text, as its attestation entry records it),
 * checks }.
 */
export async function verifyAttestation(bytes, vkeys) {
  let note;
  try {
    note = parseNote(bytes);
  } catch (e) {
    return { ok: false, checks: [fail('attestation format', e.message)] };
  }
  const lines = note.body.slice(0, -1).split('\n').map((line) => {
    const space = line.indexOf(' ');
    return space < 0 ? [line, ''] : [line.slice(0, space), line.slice(space + 1)];
  });
  const statement = `sha256:${toHex(sha256(encoder.encode(note.body)))}`;
  if (lines[0]?.[0] !== 'sios-attestation/v1' || lines[1]?.[0] !== 'origin') {
    return { ok: false, lines, statement, checks: [fail('attestation format', 'the text does not start with sios-attestation/v1 and an origin line')] };
  }
  const origin = lines[1][1];
  const checks = [pass('attestation format', `a statement by ${origin}`)];
  const keys = vkeys.filter((k) => k.kind === KeyKinds.mlDsa65 && k.name === origin);
  if (keys.length === 0) {
    checks.push(fail('ML-DSA-65 signature', `no ML-DSA-65 verifier key of ${origin} was given`));
  }
  for (const vkey of keys) {
    const name = `${vkey.kind} by ${vkey.name}+${toHex(vkey.id)}`;
    const signed = note.signatures.filter((line) => line.name === vkey.name && equal(line.id, vkey.id));
    let verified = false;
    for (const line of signed) {
      verified ||= line.signature.length === 3309 && ml_dsa65.verify(line.signature, encoder.encode(note.body), vkey.key);
    }
    checks.push(verified ? pass(name, 'verified') : fail(name, signed.length === 0 ? 'the statement carries no line by this key' : 'the signature does not verify'));
    const listed = lines.some(([keyword, value]) => keyword === 'signer' && value === `ml-dsa-65 ${vkey.text}`);
    checks.push(listed ? pass('signer listed', 'the statement names the key that signed it') : fail('signer listed', 'the statement does not name the key that signed it'));
  }
  return { ok: checks.every((c) => c.ok), lines, statement, checks };
}

/** The files of a disclosure folder as `sios log disclose` writes it. */
export const DisclosureFiles = Object.freeze({
  request: 'request.bin', response: 'response.bin', requestNonce: 'request.nonce', responseNonce: 'response.nonce',
  entry: 'entry.json', receipt: 'receipt.tlog-proof',
});

/**
 * Checks a disclosure (SPEC §2): its receipt, that entry.json (when given) is the entry the receipt proves, that the
 * entry is an inference entry, and that SHA-256(nonce || content) of the request and the response are the entry's
 * commitments. <files> maps file names to their bytes. Resolves to { ok, index, entry, checks }.
 */
export async function verifyDisclosure(files, vkeys) {
  const get = (name) => files[name] ?? null;
  const missing = [DisclosureFiles.request, DisclosureFiles.response, DisclosureFiles.requestNonce, DisclosureFiles.responseNonce, DisclosureFiles.receipt]
    .filter((name) => !get(name));
  if (missing.length > 0) return { ok: false, checks: [fail('disclosure files', `missing ${missing.join(', ')}`)] };
  const nonce = (name) => {
    const bytes = base64(new TextDecoder().decode(get(name)).trim());
    if (!bytes || bytes.length !== 32) throw new Error(`${name} is not 32 bytes of base64`);
    return bytes;
  };
  let nonces;
  try {
    nonces = { request: nonce(DisclosureFiles.requestNonce), response: nonce(DisclosureFiles.responseNonce) };
  } catch (e) {
    return { ok: false, checks: [fail('disclosure files', e.message)] };
  }
  const receipt = await verifyReceipt(get(DisclosureFiles.receipt), vkeys);
  const checks = [pass('disclosure files', 'request, response, both nonces and the receipt'), ...receipt.checks];
  if (!receipt.entry) return { ok: false, checks };
  if (get(DisclosureFiles.entry)) {
    checks.push(equal(get(DisclosureFiles.entry), receipt.entry)
      ? pass('entry file', `${DisclosureFiles.entry} is the entry the receipt proves`)
      : fail('entry file', `${DisclosureFiles.entry} is not the entry the receipt proves`));
  }
  let entry = null;
  try {
    entry = JSON.parse(utf8(receipt.entry, 'the entry'));
  } catch (e) {
    checks.push(fail('inference entry', e.message));
  }
  if (entry) {
    const commitments = typeof entry.request === 'string' && typeof entry.response === 'string';
    checks.push(entry.type === 'inference' && commitments
      ? pass('inference entry', `entry ${receipt.index} is an answer (${entry.id})`)
      : fail('inference entry', entry.type === 'inference' ? `entry ${receipt.index} commits to no request or response` : `entry ${receipt.index} is a '${entry.type}' entry, not an answer`));
    if (commitments) {
      for (const [what, content, key] of [['request', get(DisclosureFiles.request), nonces.request], ['response', get(DisclosureFiles.response), nonces.response]]) {
        const matches = commitment(key, content) === entry[what];
        checks.push(matches
          ? pass(`${what} commitment`, `SHA-256(nonce || ${what}.bin) is the entry's ${what} commitment`)
          : fail(`${what} commitment`, `${what}.bin does not match the entry's ${what} commitment under ${what}.nonce`));
      }
    }
  }
  return { ok: checks.every((c) => c.ok), index: receipt.index, entry: receipt.entry, checks };
}

/** SPEC §2: base64(SHA-256(nonce || content)). */
export function commitment(nonce, content) {
  const digest = sha256(concat(nonce, content));
  let binary = '';
  for (const b of digest) binary += String.fromCharCode(b);
  return btoa(binary);
}

function pass(name, detail) { return { name, ok: true, detail }; }
function fail(name, detail) { return { name, ok: false, detail }; }

function utf8(bytes, what) {
  try {
    return strict.decode(bytes);
  } catch {
    throw new Error(`${what} is not UTF-8`);
  }
}

function base64(text) {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return null;
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function hex(text) {
  if (!/^(?:[0-9a-f]{2})*$/.test(text)) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Lower-case hex of bytes. */
export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function u64(value) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

function concat(...parts) {
  const length = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
}

function equal(a, b) {
  if (!a || !b || a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function startsWith(bytes, prefix) {
  return bytes.length >= prefix.length && equal(bytes.subarray(0, prefix.length), prefix);
}

function indexOf(bytes, pattern) {
  outer: for (let i = 0; i + pattern.length <= bytes.length; i++) {
    for (let j = 0; j < pattern.length; j++) if (bytes[i + j] !== pattern[j]) continue outer;
    return i;
  }
  return -1;
}
