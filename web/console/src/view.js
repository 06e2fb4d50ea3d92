// Writing into the page: text only, never HTML, since what is shown comes from entries and files anyone can craft.

/** Replaces the items of <list> with one line per check: ✓ or ✗ (by class), its name and what it found. */
export function showChecks(list, checks) {
  list.replaceChildren(...checks.map((check) => {
    const item = document.createElement('li');
    item.className = check.ok ? 'ok' : 'bad';
    item.dataset.check = check.name;
    item.textContent = `${check.name}: ${check.detail}`;
    return item;
  }));
  list.dataset.ok = String(checks.every((c) => c.ok));
}
