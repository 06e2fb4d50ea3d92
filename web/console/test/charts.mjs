// Tests the console's charts (src/charts.js): the pure functions, and the SVG drawn into a minimal DOM stand-in (no
// style attribute anywhere, every text set as text). Usage: node test/charts.mjs ; exits non-zero on a failure.
import assert from 'node:assert/strict';
import { barChart, compact, lineChart, parsePrometheus, timeSeries } from '../src/charts.js';

const entry = (time, json) => ({ type: json?.type ?? 'inference', time, json });
const inference = (time, status, tokens, extra = {}) => entry(time, { type: 'inference', status, ...(tokens ? { tokens } : {}), ...extra });

// timeSeries: only inference entries with a time, bucketed from the first to the last.
{
  const buckets = timeSeries([
    inference('2026-01-01T00:00:00Z', 200, { prompt: 10, completion: 5 }),
    inference('2026-01-01T00:00:30Z', 429, null),
    inference('2026-01-01T00:01:00Z', 200, { prompt: 1, completion: 2 }),
    inference('2026-01-01T00:01:59Z', 503, { prompt: 3, completion: 0 }, { folded: 4 }),
    entry('2026-01-01T00:00:10Z', { type: 'operator.note', status: 200 }),
    inference('not a time', 200, { prompt: 1000, completion: 1000 }),
    { type: 'inference', time: '2026-01-01T00:00:10Z', json: null },
    inference('2026-01-01T00:00:40Z', '200', { prompt: -5, completion: 1.5 }),
    inference('2026-01-01T00:00:41Z', 200, { prompt: 2 ** 60, completion: 'x' }),
  ], 2);
  assert.equal(buckets.length, 2);
  assert.equal(buckets[0].start, '2026-01-01T00:00:00.000Z');
  assert.equal(buckets[1].end, '2026-01-01T00:01:59.002Z'); // two spans of ceil((119 s + 1 ms) / 2)
  assert.deepEqual(buckets.map((b) => [b.answers, b.refusals, b.promptTokens, b.completionTokens]), [[2, 1, 10, 5], [1, 5, 4, 2]]);
  assert.deepEqual(timeSeries([], 10), []);
  assert.deepEqual(timeSeries(null, 10), []);
  const one = timeSeries([inference('2026-01-01T00:00:00Z', 200, null)], 0);
  assert.equal(one.length, 1);
  assert.equal(one[0].answers, 1);
  assert.equal(timeSeries([inference('2026-01-01T00:00:00Z', 200, null), inference('2026-01-02T00:00:00Z', 200, null)], 1e9).length, 1000);
  const even = timeSeries([inference('2026-01-01T00:00:00Z', 200, null), inference('2026-01-01T00:00:59.999Z', 200, null)], 6);
  assert.deepEqual(even.map((b) => b.answers), [1, 0, 0, 0, 0, 1]);
}

// parsePrometheus: comments, labels with escapes, special values, timestamps, malformed lines.
{
  const samples = parsePrometheus([
    '# HELP sios_requests_total Requests.',
    '# TYPE sios_requests_total counter',
    'sios_requests_total{door="openai",status="200"} 12',
    'sios_requests_total{door="ollama" , status="429",} 3 1700000000000',
    'sios_seal_duration_milliseconds_bucket{le="+Inf"} +Inf',
    'weird{path="C:\\\\x\\"y\\"\\nz",__proto__="p"} NaN',
    'negative -1.5e3',
    '  spaced_out\t42  ',
    'no_value',
    'bad{unclosed="x} 1',
    'bad2{="x"} 1',
    'bad-name 1',
    'bad3 1 2 3',
    'hex 0x10',
    'inf_lower -inf',
    '',
    'empty_labels{} 7',
  ].join('\n'));
  const byName = (n) => samples.filter((s) => s.name === n);
  assert.deepEqual(samples.map((s) => s.name), ['sios_requests_total', 'sios_requests_total', 'sios_seal_duration_milliseconds_bucket', 'weird', 'negative', 'spaced_out', 'inf_lower', 'empty_labels']);
  assert.deepEqual({ ...byName('sios_requests_total')[1].labels }, { door: 'ollama', status: '429' });
  assert.equal(byName('sios_requests_total')[1].value, 3);
  assert.equal(byName('sios_seal_duration_milliseconds_bucket')[0].labels.le, '+Inf');
  assert.equal(byName('sios_seal_duration_milliseconds_bucket')[0].value, Infinity);
  const weird = byName('weird')[0];
  assert.equal(weird.labels.path, 'C:\\x"y"\nz');
  assert.equal(weird.labels.__proto__, 'p');
  assert.equal(Object.getPrototypeOf(weird.labels), null);
  assert.ok(Number.isNaN(weird.value));
  assert.equal(byName('negative')[0].value, -1500);
  assert.equal(byName('spaced_out')[0].value, 42);
  assert.equal(byName('inf_lower')[0].value, -Infinity);
  assert.deepEqual(parsePrometheus(''), []);
  assert.deepEqual(parsePrometheus(undefined), []);
  assert.equal(parsePrometheus('a 1\r\nb 2\r\n').length, 2);
}

// compact
assert.deepEqual([0, 7, 0.25, 12.345, 999, 1000, 1234, 99_999, 999_999, 1_500_000, 2.5e12, -4200, NaN, Infinity, undefined].map(compact),
  ['0', '7', '0.25', '12.3', '999', '1k', '1.23k', '100k', '1M', '1.5M', '2.5T', '-4.2k', '—', '∞', '—']);

// Drawing, into a stand-in DOM: an <svg role="img"> with its title first, no style attribute, text only as text.
class Node {
  constructor(doc, tag) { Object.assign(this, { ownerDocument: doc, tagName: tag, attributes: {}, children: [], text: '' }); }
  setAttribute(name, value) { assert.notEqual(name.toLowerCase(), 'style'); assert.equal(typeof value, 'string'); this.attributes[name] = value; }
  appendChild(child) { this.children.push(child); return child; }
  replaceChildren(...children) { this.children = children; }
  set textContent(value) { this.text = value; }
  get textContent() { return this.text + this.children.map((c) => c.textContent).join(''); }
  set innerHTML(_) { assert.fail('innerHTML is never set'); }
  *walk() { yield this; for (const c of this.children) yield* c.walk(); }
}
const doc = { createElementNS: (ns, tag) => { assert.equal(ns, 'http://www.w3.org/2000/svg'); return new Node(doc, tag); } };
const container = new Node(doc, 'div');
container.children.push(new Node(doc, 'p'));
const hostile = '<img src=x onerror=alert(1)>';
lineChart(container, {
  title: `Answers ${hostile}`, xLabel: 'time', yLabel: 'entries', yMax: 10,
  series: [
    { name: hostile, className: 'series-ok x"onload="y', points: [[Date.parse('2026-01-01T00:00:00Z'), 1], [Date.parse('2026-01-01T01:00:00Z'), 4], [Date.parse('2026-01-01T00:30:00Z'), NaN]] },
    { name: 'refusals', className: 'series-bad', points: [[Date.parse('2026-01-01T00:30:00Z'), 2]] },
    { name: 'none', className: 'series-a', points: [] },
  ],
});
{
  const [svg] = container.children;
  assert.equal(container.children.length, 1);
  assert.equal(svg.tagName, 'svg');
  assert.equal(svg.attributes.role, 'img');
  assert.equal(svg.children[0].tagName, 'title');
  assert.equal(svg.children[0].text, `Answers ${hostile}`);
  assert.deepEqual(svg.attributes['aria-labelledby'].split(' '), [svg.children[0].attributes.id, svg.children[1].attributes.id]);
  const nodes = [...svg.walk()];
  const polylines = nodes.filter((n) => n.tagName === 'polyline');
  assert.equal(polylines.length, 1);
  assert.equal(polylines[0].attributes.class, 'chart-line series-ok');
  assert.equal(polylines[0].attributes.points.split(' ').length, 2);
  assert.ok(nodes.some((n) => n.tagName === 'circle' && n.attributes.class === 'chart-dot series-bad'));
  assert.ok(nodes.some((n) => n.tagName === 'text' && n.text === hostile));
  assert.ok(nodes.some((n) => n.tagName === 'text' && n.text === '10'), 'the y axis reaches yMax');
  for (const n of nodes) for (const value of Object.values(n.attributes)) assert.ok(!/[<>"]/.test(value) || n.tagName === 'title', `${n.tagName}: ${value}`);
}
lineChart(container, { title: 'empty', series: [] });
assert.ok([...container.children[0].walk()].some((n) => n.text === 'no data yet'));
barChart(container, {
  title: 'Witness lag',
  bars: [{ label: hostile.repeat(3), value: 5, max: 10, className: 'series-b' }, { label: 'w2', value: 20, max: 10 }, { label: 'w3', value: NaN }],
});
{
  const nodes = [...container.children[0].walk()];
  const bars = nodes.filter((n) => n.attributes.class?.startsWith('chart-bar'));
  const track = Number(nodes.find((n) => n.attributes.class === 'chart-track').attributes.width);
  assert.deepEqual(bars.map((b) => Number(b.attributes.width)), [track / 2, track, 0]);
  assert.ok(nodes.some((n) => n.text.startsWith('<img src=x') && n.text.endsWith('…') && n.text.length === 28));
}
barChart(container, { title: 'many', bars: Array.from({ length: 50 }, (_, i) => ({ label: `b${i}`, value: i })) });
assert.equal([...container.children[0].walk()].filter((n) => n.attributes.class?.startsWith('chart-bar')).length, 40);
assert.ok([...container.children[0].walk()].some((n) => n.text === 'and 10 more'));
lineChart(null, { title: 'nowhere' });
barChart(undefined, { title: 'nowhere' });

console.log('charts: ok');
