// Audits an exported log folder (what `sios log export` writes: checkpoint, tile/<L>/<N>[.p/<W>] hash tiles and
// tile/entries/<N>[.p/<W>] entry bundles, c2sp.org/tlog-tiles) in the browser, trusting nothing the log computed: the
// checkpoint's signatures by the vkeys given, every entry bundle the size needs, every hash tile a tlog-tiles client
// would fetch for that size recomputed from the entries, and the RFC 6962 root. Bundle by bundle, holding only one
// bundle's leaf hashes, one partial tile per level and the right edge of the tree; nothing here throws for bad input.
import { sha256 } from '@noble/hashes/sha2.js';
import { leafHash, toHex, verifyCheckpoint } from './verify.js';
import { tileIndexPath } from './tiles.js';

const W = 256; // hashes in a full tile, entries in a full bundle
const H = 32;
const MAX_SIZE = 2 ** 32;
const MAX_CHECKPOINT_BYTES = 1 << 20;
const MAX_BUNDLE_BYTES = W * (2 + 0xffff);

/** The path of hash tile (level, index) of the given width, or of entry bundle index when level is 'entries'. */
export function tilePath(level, index, width) {
  return `tile/${level}/${tileIndexPath(index)}${width === W ? '' : `.p/${width}`}`;
}

/**
 * Checks an exported log folder. <files> (a Map, or an object) maps paths relative to the folder ('checkpoint',
 * 'tile/0/000', …; one leading folder shared by every path, as a directory picker gives, is dropped) to their bytes:
 * a Uint8Array, an ArrayBuffer, or a Blob/File, read only when its turn comes (a picked folder need not be held in
 * memory). vkeys: parsed by parseVkey; every one must have signed. Resolves to { ok, size (BigInt, or null when the checkpoint cannot be read), entries (hashed), tiles (compared),
 * checks: [{name, ok, detail}], checkpoint }. onProgress(done, total) is called as entries are hashed.
 */
export async function verifyLogFolder(files, vkeys, onProgress) {
  const checks = [];
  const done = (extra) => ({ ok: checks.length > 0 && checks.every((c) => c.ok), size: null, entries: 0, tiles: 0, checks, checkpoint: null, ...extra });
  let folder;
  try {
    folder = normalise(files);
  } catch (e) {
    checks.push(fail('checkpoint', `the folder cannot be read: ${e.message}`));
    return done();
  }
  const read = await load(folder, 'checkpoint', MAX_CHECKPOINT_BYTES);
  if (read.error) {
    checks.push(fail('checkpoint', read.error === 'the file is missing' ? 'the folder has no checkpoint file' : `the checkpoint ${read.error.replace(/^the file /, '')}`));
    return done();
  }
  const note = read.bytes;
  const keys = Array.from(vkeys ?? []);
  let signed;
  try {
    signed = await verifyCheckpoint(note, keys);
  } catch (e) {
    signed = { ok: false, checks: [fail('checkpoint format', String(e?.message ?? e))] };
  }
  const given = keys.length > 0;
  checks.push(signed.ok && given
    ? pass('checkpoint', `signed by every vkey given: ${signed.checkpoint.origin}, size ${signed.checkpoint.size}`)
    : fail('checkpoint', given ? 'the checkpoint does not verify under the vkeys given' : 'no vkey was given, so the signatures were not checked'));
  checks.push(...signed.checks);
  if (!signed.checkpoint) return done();
  const { checkpoint } = signed;
  if (checkpoint.size > BigInt(MAX_SIZE)) {
    checks.push(fail('entry bundles', `a log of ${checkpoint.size} entries is beyond what this page audits (2^32)`));
    return done({ size: checkpoint.size, checkpoint });
  }
  let audit;
  try {
    audit = await audited(folder, Number(checkpoint.size), checkpoint.root, onProgress);
  } catch (e) {
    audit = { entries: 0, tiles: 0, checks: [fail('entry bundles', `the audit stopped: ${String(e?.message ?? e)}`)] };
  }
  checks.push(...audit.checks);
  return done({ size: checkpoint.size, entries: audit.entries, tiles: audit.tiles, checkpoint });
}

/** Re-derives the tree of <size> leaves from the bundles, comparing every hash tile on the way, then the root. */
async function audited(folder, size, root, onProgress) {
  const bundles = Math.ceil(size / W);
  const stack = []; // the right edge: [hash, height], largest first
  const levels = [null]; // levels[L >= 1]: the hashes of level L's current tile so far
  const fill = [0];
  let entries = 0; let tiles = 0;
  let badBundle = null; let badTile = null; let badEntry = null;
  let yielded = Date.now();
  const report = (n, total) => { try { onProgress?.(n, total); } catch { /* a page's progress bar is not the audit's business */ } };

  const compare = async (level, index, computed, width) => {
    tiles++;
    const path = tilePath(level, index, width);
    const read = await readTile(folder, level, index, width);
    if (read.error) { badTile ??= { path, why: read.error }; return; }
    for (let i = 0; i < width; i++) {
      if (!same(computed, read.bytes, i * H)) {
        if (!badTile) {
          badTile = { path, why: `hash ${i} differs from the one recomputed from the entries` };
          if (level === 0) badEntry = index * W + i;
        }
        return;
      }
    }
  };
  const push = (hash, height) => {
    let [top, h] = [hash, height];
    while (stack.length > 0 && stack[stack.length - 1][1] === h) {
      top = node(stack.pop()[0], top);
      h++;
    }
    stack.push([top, h]);
  };
  const append = async (level, index, hash) => {
    if (levels.length === level) { levels.push(new Uint8Array(W * H)); fill.push(0); }
    levels[level].set(hash, fill[level] * H);
    if (++fill[level] < W) return;
    await compare(level, index, levels[level], W);
    fill[level] = 0;
    await append(level + 1, Math.floor(index / W), tileRoot(levels[level]));
  };

  for (let bundle = 0; bundle < bundles; bundle++) {
    const count = Math.min(W, size - bundle * W);
    const read = await readBundle(folder, bundle, count);
    if (read.error) {
      badBundle = { path: tilePath('entries', bundle, count), index: bundle * W + read.position, why: read.error };
      break;
    }
    const leaves = new Uint8Array(W * H);
    read.entries.forEach((entry, i) => leaves.set(leafHash(entry), i * H));
    await compare(0, bundle, leaves, count);
    if (count === W) {
      const tile = tileRoot(leaves);
      push(tile, 8);
      await append(1, Math.floor(bundle / W), tile);
    } else {
      for (let i = 0; i < count; i++) push(leaves.subarray(i * H, (i + 1) * H), 0);
    }
    entries += count;
    if (Date.now() - yielded > 50) {
      // Let the page repaint now and then; setTimeout's clamping makes yielding after every bundle far too slow.
      report(entries, size);
      await new Promise((resolve) => setTimeout(resolve, 0));
      yielded = Date.now();
    }
  }
  report(entries, size);

  const checks = [];
  if (badBundle) {
    checks.push(fail('entry bundles', `entry ${badBundle.index} is missing or damaged (${badBundle.path}: ${badBundle.why})`));
  } else {
    for (let level = 1; level < levels.length; level++) {
      if (fill[level] > 0) await compare(level, Math.floor(size / W ** (level + 1)), levels[level], fill[level]);
    }
    checks.push(pass('entry bundles', `${bundles} bundles, ${entries} entries, framing and counts right`));
  }
  if (badTile) {
    checks.push(fail('tiles', `${badTile.path}: ${badTile.why}`));
  } else {
    checks.push(badBundle
      ? fail('tiles', `not all checked: the entries stop at ${badBundle.path} (${tiles} compared before)`)
      : pass('tiles', `${tiles} hash tiles agree with the entries`));
  }
  if (badBundle) {
    checks.push(fail('root', `not recomputed: the entries stop at entry ${badBundle.index}`));
  } else {
    let mine = stack.length === 0 ? sha256(new Uint8Array(0)) : stack[stack.length - 1][0];
    for (let i = stack.length - 2; i >= 0; i--) mine = node(stack[i][0], mine);
    if (same(mine, root, 0) && mine.length === root.length) {
      checks.push(pass('root', `the ${size} entries give the checkpoint's root ${toHex(root).slice(0, 16)}…`));
    } else {
      checks.push(fail('root', badEntry !== null
        ? `entry ${badEntry} was altered or is out of place: it does not hash to ${badTile.path}, and the entries do not give the checkpoint's root`
        : `the ${size} entries do not give the checkpoint's root (they give ${toHex(mine).slice(0, 16)}…)`));
    }
  }
  return { entries, tiles, checks };
}

/** A bundle's entries: its exact file, or for a partial one that is absent the full one's first <count> entries. */
async function readBundle(folder, bundle, count) {
  const exact = folder.has(tilePath('entries', bundle, count));
  const path = tilePath('entries', bundle, exact || count === W ? count : W);
  const read = await load(folder, path, MAX_BUNDLE_BYTES);
  if (read.error) return { error: exact || !folder.has(path) ? read.error : `it is absent, and ${path}: ${read.error}`, position: 0 };
  const { bytes } = read;
  const entries = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (bytes.length - at < 2) return { error: `the bundle ends after ${i} of ${count} entries`, position: i };
    const length = (bytes[at] << 8) | bytes[at + 1];
    if (bytes.length - at - 2 < length) return { error: `entry ${i} of the bundle claims ${length} bytes but the bundle ends first`, position: i };
    entries.push(bytes.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  if (exact && at !== bytes.length) return { error: `the bundle has ${bytes.length - at} bytes after its ${count} entries`, position: count };
  return { entries };
}

/** A hash tile's bytes: its exact file, width × 32 bytes, or for a partial one that is absent the full one's prefix. */
async function readTile(folder, level, index, width) {
  const exact = folder.has(tilePath(level, index, width));
  const path = tilePath(level, index, exact ? width : W);
  const read = await load(folder, path, W * H);
  if (read.error) return { error: exact || !folder.has(path) ? read.error : `it is absent, and ${path}: ${read.error}` };
  const wanted = exact ? width * H : W * H;
  if (read.bytes.length !== wanted) return { error: `${exact ? 'it' : 'it is absent and the full tile'} has ${read.bytes.length} bytes, not ${wanted}` };
  return read;
}

/** A file's bytes, from a Uint8Array, an ArrayBuffer or a Blob (a File from a picker: read only when needed). */
async function load(folder, path, limit) {
  const value = folder.get(path);
  const size = value instanceof Uint8Array || value instanceof ArrayBuffer ? value.byteLength : typeof value?.arrayBuffer === 'function' ? Number(value.size) : null;
  if (size === null) return { error: 'the file is missing' };
  if (!(size <= limit)) return { error: `the file is over ${limit} bytes, more than any valid one` };
  if (value instanceof Uint8Array) return { bytes: value };
  try {
    const bytes = new Uint8Array(value instanceof ArrayBuffer ? value : await value.arrayBuffer());
    return bytes.length <= limit ? { bytes } : { error: `the file is over ${limit} bytes, more than any valid one` };
  } catch (e) {
    return { error: `the file cannot be read: ${String(e?.message ?? e)}` };
  }
}

/** The files as a Map, path separators '/', one leading folder shared by every path removed. */
function normalise(files) {
  const entries = files instanceof Map ? [...files] : Object.entries(files ?? {});
  const paths = entries.map(([path, bytes]) => [String(path).replaceAll('\\', '/').replace(/^\.?\//, ''), bytes]);
  const first = paths.length > 0 && paths[0][0].includes('/') ? paths[0][0].slice(0, paths[0][0].indexOf('/') + 1) : null;
  const strip = first !== null && first !== 'tile/' && paths.every(([path]) => path.startsWith(first));
  return new Map(paths.map(([path, bytes]) => [strip ? path.slice(first.length) : path, bytes]));
}

/** The Merkle Tree Hash of a full tile's 256 hashes. */
function tileRoot(tile) {
  let row = [];
  for (let i = 0; i < W; i++) row.push(tile.subarray(i * H, (i + 1) * H));
  while (row.length > 1) {
    const next = [];
    for (let i = 0; i < row.length; i += 2) next.push(node(row[i], row[i + 1]));
    row = next;
  }
  return row[0];
}

function node(left, right) {
  const message = new Uint8Array(1 + 2 * H);
  message[0] = 1;
  message.set(left, 1);
  message.set(right, 1 + H);
  return sha256(message);
}

/** Whether hash i of the computed tile (at byte offset) equals the stored one at the same offset. */
function same(computed, stored, offset) {
  for (let j = 0; j < H; j++) if (computed[offset + j] !== stored[offset + j]) return false;
  return true;
}

function pass(name, detail) { return { name, ok: true, detail }; }
function fail(name, detail) { return { name, ok: false, detail }; }
