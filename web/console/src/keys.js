// Key administration for admin keys: the keys listed (scope and state, never a secret), one made or revoked through
// /admin/keys, which seals the change exactly as the CLI does; the entry it sealed is then fetched and checked here.
import { verifyReceipt } from './verify.js';
import { showChecks } from './view.js';

const decoder = new TextDecoder();

/** Wires the key page in <root>. <call(method, path, body?)> returns parsed JSON or throws; <fetchLog>, <keys> check the sealed entries. */
export function setUpKeys(root, { call, fetchLog, keys }) {
  const $ = (id) => root.querySelector(`#${id}`);
  const state = $('keys-state');
  const result = $('key-result');

  async function sealed(what, index) {
    const receipt = await verifyReceipt(await fetchLog(`receipts/${index}`), keys());
    let entry = null;
    try {
      entry = JSON.parse(decoder.decode(receipt.entry));
    } catch {
      entry = null;
    }
    const checks = [...receipt.checks, entry?.type === what
      ? { name: 'sealed', ok: true, detail: `entry ${index} is ${what} for '${entry.name}' by ${entry.actor}` }
      : { name: 'sealed', ok: false, detail: `entry ${index} is not a ${what} entry` }];
    showChecks($('key-checks'), checks);
  }

  async function list() {
    const { keys: all } = await call('GET', '/admin/keys');
    $('keys-table').replaceChildren(...all.map((key) => {
      const row = document.createElement('tr');
      row.dataset.key = key.name;
      for (const text of [key.name, key.id, key.role, key.brains.join(', '), limits(key), key.created.slice(0, 19), key.revoked ? `revoked ${key.revoked.slice(0, 19)}` : 'live']) {
        const td = document.createElement('td');
        td.textContent = text;
        row.append(td);
      }
      const td = document.createElement('td');
      if (!key.revoked) {
        const revoke = document.createElement('button');
        revoke.type = 'button';
        revoke.textContent = 'Revoke';
        revoke.dataset.revoke = key.name;
        revoke.addEventListener('click', () => revokeKey(key.name));
        td.append(revoke);
      } else {
        row.className = 'revoked';
      }
      row.append(td);
      return row;
    }));
    state.textContent = `${all.filter((k) => !k.revoked).length} live key(s), ${all.filter((k) => k.revoked).length} revoked.`;
  }

  async function revokeKey(name) {
    try {
      const done = await call('POST', `/admin/keys/${encodeURIComponent(name)}/revoke`);
      $('key-secret').textContent = '';
      result.textContent = `Key '${done.name}' (${done.id}) revoked; key.revoked is entry ${done.index}.`;
      result.dataset.index = String(done.index);
      await sealed('key.revoked', done.index);
      await list();
    } catch (e) {
      result.textContent = `The key could not be revoked: ${e.message}`;
    }
  }

  $('key-create').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.target;
    const body = { name: form.elements['new-key-name'].value.trim(), role: form.elements['new-key-role'].value };
    body.brains = form.elements['new-key-brains'].value.split(',').map((b) => b.trim()).filter((b) => b.length > 0);
    for (const limit of ['rpm', 'tpm']) {
      const value = form.elements[`new-key-${limit}`].value.trim();
      if (value) body[limit] = Number(value);
    }
    try {
      const made = await call('POST', '/admin/keys', body);
      form.reset();
      result.textContent = `Key '${made.name}' (${made.id}) made; key.created is entry ${made.index}. Its secret, shown this once:`;
      result.dataset.index = String(made.index);
      $('key-secret').textContent = made.secret;
      await sealed('key.created', made.index);
      await list();
    } catch (e) {
      $('key-secret').textContent = '';
      result.textContent = `The key was not made: ${e.message}`;
    }
  });
  return list;
}

function limits(key) {
  const parts = [];
  if (key.rpm !== null) parts.push(`${key.rpm}/min`);
  if (key.tpm !== null) parts.push(`${key.tpm} tok/min`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}
