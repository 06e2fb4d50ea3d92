// Reading the log as tlog-tiles lays it out: entry bundles (big-endian uint16 length-prefixed entries, 256 a full
// bundle) at tile/entries/<N>[.p/<W>], N written in groups of three digits with 'x' before all but the last.

/** The tlog-tiles path element for index n: 1234067 -> x001/x234/067. */
export function tileIndexPath(n) {
  let value = BigInt(n);
  const groups = [];
  do {
    groups.unshift(String(value % 1000n).padStart(3, '0'));
    value /= 1000n;
  } while (value > 0n);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/** The path (under /log/) of the entry bundle holding entry i in a tree of size entries. */
export function bundlePath(bundle, size) {
  const start = BigInt(bundle) * 256n;
  const width = size - start >= 256n ? 256n : size - start;
  return `tile/entries/${tileIndexPath(bundle)}${width === 256n ? '' : `.p/${width}`}`;
}

/** Splits an entry bundle into its entries; throws when its framing is broken or it holds another count. */
export function parseBundle(bytes, expected) {
  const entries = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 2 > bytes.length) throw new Error('an entry bundle ends inside a length prefix');
    const length = (bytes[at] << 8) | bytes[at + 1];
    if (at + 2 + length > bytes.length) throw new Error('an entry bundle ends inside an entry');
    entries.push(bytes.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  if (entries.length !== expected) throw new Error(`the entry bundle holds ${entries.length} entries, not ${expected}`);
  return entries;
}
