// The record explorer: entries read from the log's entry bundles (the public tlog-tiles, not a private API), newest
// first, filtered by type and by any text they carry; an entry's inclusion under the verified checkpoint is checked
// here from its receipt. Entries are attacker-influenced: they are only ever written into the page as text.
import { bundlePath, parseBundle } from './tiles.js';
import { verifyReceipt } from './verify.js';
import { showChecks } from './view.js';

const PAGE = 50;
const decoder = new TextDecoder();

/** Decodes an entry's JSON header (type, actor, time) without trusting it beyond display. */
export function describe(bytes) {
  const text = decoder.decode(bytes);
  try {
    const json = JSON.parse(text);
    return { text, json, type: String(json.type ?? '?'), actor: String(json.actor ?? ''), time: String(json.time ?? '') };
  } catch {
    return { text, json: null, type: '(not JSON)', actor: '', time: '' };
  }
}

/** Whether an entry records a refusal: shown apart, since refusals are what an auditor looks for first. */
export function isRefusal(entry) {
  return /refus|denied|rejected/.test(entry.type) || (typeof entry.json?.status === 'number' && entry.json.status >= 400);
}

/** Shows the record of a tree of <size> entries in <root> (an element), reading through fetchLog(path) -> bytes. */
export function showRecord(root, { size, fetchLog, vkeys }) {
  const state = { end: size, rows: [], types: new Set() };
  const list = root.querySelector('#record-list');
  const type = root.querySelector('#record-type');
  const text = root.querySelector('#record-text');
  const status = root.querySelector('#record-status');
  const detail = root.querySelector('#record-detail');
  const checks = root.querySelector('#record-checks');

  async function loadPage() {
    const from = state.end > BigInt(PAGE) ? state.end - BigInt(PAGE) : 0n;
    for (let bundle = state.end === 0n ? -1n : (state.end - 1n) / 256n; bundle >= from / 256n && bundle >= 0n; bundle--) {
      const first = bundle * 256n;
      const count = Number((size - first >= 256n ? 256n : size - first));
      const entries = parseBundle(await fetchLog(bundlePath(bundle, size)), count);
      for (let i = entries.length - 1; i >= 0; i--) {
        const index = first + BigInt(i);
        if (index >= state.end || index < from) continue;
        const entry = { index, bytes: entries[i], ...describe(entries[i]) };
        state.rows.push(entry);
        state.types.add(entry.type);
      }
    }
    state.end = from;
    render();
  }

  function render() {
    const chosen = type.value;
    type.replaceChildren(new Option('every type', ''), ...[...state.types].sort().map((t) => new Option(t, t)));
    type.value = state.types.has(chosen) ? chosen : '';
    const needle = text.value.trim();
    const shown = state.rows.filter((r) => (!type.value || r.type === type.value) && (!needle || r.text.includes(needle)));
    list.replaceChildren(...shown.map((entry) => {
      const row = document.createElement('li');
      row.dataset.index = String(entry.index);
      row.className = isRefusal(entry) ? 'refusal' : '';
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = `#${entry.index}  ${entry.time}  ${entry.type}  ${entry.actor}`;
      button.addEventListener('click', () => open(entry));
      row.append(button);
      return row;
    }));
    status.textContent = `${shown.length} of the ${state.rows.length} newest entries shown${state.end > 0n ? '' : ' (the whole record)'}.`;
    root.querySelector('#record-more').hidden = state.end === 0n;
  }

  async function open(entry) {
    detail.textContent = entry.json ? JSON.stringify(entry.json, null, 2) : entry.text;
    detail.dataset.index = String(entry.index);
    checks.replaceChildren();
    checks.dataset.ok = '';
    const result = await verifyReceipt(await fetchLog(`receipts/${entry.index}`), vkeys());
    // The receipt must carry the very bytes the tiles hold, or it proves some other entry.
    const same = result.entry && result.entry.length === entry.bytes.length && result.entry.every((b, i) => b === entry.bytes[i]);
    const all = [...result.checks, same
      ? { name: 'same entry as the tiles', ok: true, detail: 'the receipt carries the bytes the entry bundle holds' }
      : { name: 'same entry as the tiles', ok: false, detail: 'the receipt carries other bytes than the entry bundle' }];
    showChecks(checks, all);
  }

  type.onchange = render;
  text.oninput = render;
  root.querySelector('#record-more').onclick = () => loadPage().catch((e) => { status.textContent = `The record could not be read: ${e.message}`; });
  return loadPage().catch((e) => { status.textContent = `The record could not be read: ${e.message}`; });
}
