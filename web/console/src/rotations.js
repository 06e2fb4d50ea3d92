// Following the log's signer rotations in the browser: each rotation statement is the receipt of a signer.rotated
// entry under a checkpoint signed by the retiring and the new keys, so trust passes from the keys the user gave to the
// ones that sign now only through statements those keys themselves signed.
import { KeyKinds, parseProof, parseVkey, toHex, verifyCheckpoint, verifyReceipt } from './verify.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const LOG_KINDS = [KeyKinds.mlDsa65, KeyKinds.mlDsa44Cosignature];

const sameKeys = (a, b) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
const named = (keys) => keys.map((k) => `${k.name}+${toHex(k.id)}`).join(', ');

/**
 * Follows <rotations> ([{ index, receipt (text) }], oldest first) from <trusted> (parsed vkeys; only the log's ML-DSA
 * ones count): statements before the first that retires exactly the trusted keys are skipped, each one after must be
 * signed by the keys it retires and by the keys it brings. Resolves to { ok, keys (the keys trust ends at), checks }.
 */
export async function followRotations(trusted, rotations) {
  let keys = trusted.filter((k) => LOG_KINDS.includes(k.kind));
  const checks = [];
  let following = false;
  for (const { index, receipt } of rotations) {
    const name = `rotation at entry ${index}`;
    const bytes = encoder.encode(String(receipt));
    let entry = null;
    try {
      entry = JSON.parse(decoder.decode(parseProof(bytes).extra ?? new Uint8Array()));
    } catch {
      entry = null;
    }
    const old = Array.isArray(entry?.old) ? entry.old.map(String) : [];
    if (!following && !sameKeys(old, keys.map((k) => k.text))) continue;
    following = true;
    if (entry?.type !== 'signer.rotated' || !Array.isArray(entry.new)) {
      checks.push({ name, ok: false, detail: 'the statement is not the receipt of a signer.rotated entry' });
      return { ok: false, keys, checks };
    }
    const byOld = await verifyReceipt(bytes, keys);
    const wrong = byOld.checks.find((c) => !c.ok);
    if (wrong || byOld.index !== BigInt(index ?? -1)) {
      checks.push({ name, ok: false, detail: wrong ? `under the retiring keys: ${wrong.name}: ${wrong.detail}` : `the statement proves entry ${byOld.index}, not ${index}` });
      return { ok: false, keys, checks };
    }
    let next;
    try {
      next = entry.new.map(parseVkey);
    } catch (e) {
      checks.push({ name, ok: false, detail: `the new keys cannot be read: ${e.message}` });
      return { ok: false, keys, checks };
    }
    const byNew = await verifyCheckpoint(parseProof(bytes).note, next);
    if (!byNew.ok) {
      const bad = byNew.checks.find((c) => !c.ok);
      checks.push({ name, ok: false, detail: `the checkpoint is not signed by the new keys: ${bad?.name}: ${bad?.detail}` });
      return { ok: false, keys, checks };
    }
    checks.push({ name, ok: true, detail: `signed by the retiring keys (${named(keys)}) and the new ones (${named(next)})` });
    keys = next;
  }
  return { ok: true, keys, checks };
}

/** Whether two lists of vkey texts name the same keys. */
export function sameVkeys(a, b) {
  return sameKeys(a.map(String), b.map(String));
}
