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
    const brain = typeof json.brain === 'string' ? json.brain : (typeof json.name === 'string' && String(json.type).startsWith('brain.') ? json.name : '');
    return { text, json, type: String(json.type ?? '?'), actor: String(json.actor ?? ''), time: String(json.time ?? ''), brain };
  } catch {
    return { text, json: null, type: '(not JSON)', actor: '', time: '', brain: '' };
  }
}

/** Whether an entry records a refusal: shown apart, since refusals are what an auditor looks for first. */
export function isRefusal(entry) {
  return /refus|denied|rejected/.test(entry.type) || (typeof entry.json?.status === 'number' && entry.json.status >= 400);
}

/** Shows the record of a tree of <size> entries in <root> (an element), reading through fetchLog(path) -> bytes; onRows(rows) after each page read. */
export function showRecord(root, { size, fetchLog, vkeys, onRows }) {
  const state = { end: size, rows: [], types: new Set(), actors: new Set(), brains: new Set() };
  const list = root.querySelector('#record-list');
  const type = root.querySelector('#record-type');
  const text = root.querySelector('#record-text');
  const actor = root.querySelector('#record-actor');
  const brain = root.querySelector('#record-brain');
  const since = root.querySelector('#record-since');
  const links = root.querySelector('#record-links');
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
        if (entry.actor) state.actors.add(entry.actor);
        if (entry.brain) state.brains.add(entry.brain);
      }
    }
    state.end = from;
    render();
    onRows?.(state.rows);
  }

  function choices(select, values, every) {
    const chosen = select.value;
    select.replaceChildren(new Option(every, ''), ...[...values].sort().map((v) => new Option(v, v)));
    select.value = values.has(chosen) ? chosen : '';
  }

  function render() {
    choices(type, state.types, 'every type');
    choices(actor, state.actors, 'every actor');
    choices(brain, state.brains, 'every brain');
    const needle = text.value.trim();
    const from = since.value.trim();
    const shown = state.rows.filter((r) => (!type.value || r.type === type.value) && (!actor.value || r.actor === actor.value)
      && (!brain.value || r.brain === brain.value) && (!from || r.time >= from) && (!needle || r.text.includes(needle)));
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

  // What an answer points at: its stream's inference.begin, the load of its brain, and the attestation then in force.
  function related(entry) {
    const before = (predicate) => state.rows.find((r) => r.index < entry.index && predicate(r));
    const found = [];
    if (typeof entry.json?.begin === 'number') {
      found.push(['its inference.begin', state.rows.find((r) => r.index === BigInt(entry.json.begin))]);
    }
    if (entry.type === 'inference' || entry.type === 'inference.begin') {
      found.push([`the load of brain ${entry.brain}`, before((r) => r.type === 'brain.loaded' && r.brain === entry.brain)]);
      found.push(['the attestation in force', before((r) => r.type === 'attestation')]);
    }
    return found;
  }

  async function open(entry) {
    detail.textContent = entry.json ? JSON.stringify(entry.json, null, 2) : entry.text;
    links.replaceChildren(...related(entry).map(([what, target]) => {
      const link = document.createElement('button');
      link.type = 'button';
      link.dataset.link = what;
      if (target) {
        link.textContent = `${what}: #${target.index}`;
        link.addEventListener('click', () => open(target));
      } else {
        link.textContent = `${what}: not among the entries read (read older ones)`;
        link.disabled = true;
      }
      return link;
    }));
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
  actor.onchange = render;
  brain.onchange = render;
  since.oninput = render;
  text.oninput = render;
  root.querySelector('#record-more').onclick = () => loadPage().catch((e) => { status.textContent = `The record could not be read: ${e.message}`; });
  return loadPage().catch((e) => { status.textContent = `The record could not be read: ${e.message}`; });
}
