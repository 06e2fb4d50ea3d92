// Small SVG charts for the console's pictures, with no library. The page's Content-Security-Policy allows no inline
// style, so nothing here sets a style attribute: geometry is given by SVG attributes, colours by CSS classes
// (console.css: .chart-svg, .series-*). Every text (titles, series names, bar labels: entries are attacker-influenced)
// is set with textContent, never parsed as markup.

const SVG = 'http://www.w3.org/2000/svg';
const MAX_BUCKETS = 1000;
const MAX_BARS = 40;
const MAX_LABEL = 28;
let charts = 0;

/**
 * Buckets decoded log entries ({json, time, type}, as the explorer holds them) of type 'inference' by time: returns
 * [{start, end (ISO strings), answers (status < 400), refusals (status >= 400, plus the refusals folded into the
 * entry), promptTokens, completionTokens}], bucketCount equal spans from the first entry's time to the last's; [] for none.
 */
export function timeSeries(entries, bucketCount = 24) {
  const rows = [];
  for (const entry of entries ?? []) {
    if (entry?.type !== 'inference' || !entry.json || typeof entry.json !== 'object') continue;
    const time = Date.parse(entry.time);
    if (Number.isFinite(time)) rows.push([time, entry.json]);
  }
  if (rows.length === 0) return [];
  const count = Math.min(MAX_BUCKETS, Math.max(1, Math.floor(Number(bucketCount)) || 1));
  const [first, last] = extent(rows.map(([t]) => t));
  const width = Math.max(1, Math.ceil((last - first + 1) / count));
  const buckets = Array.from({ length: count }, (_, i) => ({
    start: new Date(first + i * width).toISOString(),
    end: new Date(first + (i + 1) * width).toISOString(),
    answers: 0, refusals: 0, promptTokens: 0, completionTokens: 0,
  }));
  for (const [time, json] of rows) {
    const bucket = buckets[Math.min(count - 1, Math.floor((time - first) / width))];
    if (typeof json.status === 'number' && Number.isFinite(json.status)) {
      if (json.status >= 400) bucket.refusals++; else bucket.answers++;
    }
    if (count0(json.folded)) bucket.refusals += json.folded;
    if (count0(json.tokens?.prompt)) bucket.promptTokens += json.tokens.prompt;
    if (count0(json.tokens?.completion)) bucket.completionTokens += json.tokens.completion;
  }
  return buckets;
}

function count0(value) {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Parses the Prometheus text exposition format into [{name, labels (an object without prototype), value}]; comments,
 * blank and malformed lines are skipped; label values are unescaped (\\, \", \n); NaN, +Inf and -Inf are numbers.
 */
export function parsePrometheus(text) {
  const samples = [];
  for (const raw of String(text ?? '').split('\n')) {
    const line = raw.trim();
    if (line.length === 0 || line.startsWith('#')) continue;
    const sample = parseSample(line);
    if (sample) samples.push(sample);
  }
  return samples;
}

function parseSample(line) {
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!name) return null;
  let at = name[0].length;
  const labels = Object.create(null);
  if (line[at] === '{') {
    at++;
    for (;;) {
      while (line[at] === ' ' || line[at] === '\t' || line[at] === ',') at++;
      if (line[at] === '}') { at++; break; }
      const label = /^[a-zA-Z_][a-zA-Z0-9_]*[ \t]*=[ \t]*"/.exec(line.slice(at));
      if (!label) return null;
      at += label[0].length;
      let value = '';
      for (;;) {
        const c = line[at++];
        if (c === undefined) return null;
        if (c === '"') break;
        if (c === '\\') {
          const next = line[at++];
          value += next === 'n' ? '\n' : next === '\\' || next === '"' ? next : `\\${next ?? ''}`;
        } else {
          value += c;
        }
      }
      labels[label[0].slice(0, label[0].search(/[ \t=]/))] = value;
    }
  }
  const rest = line.slice(at).trim().split(/[ \t]+/);
  if (rest.length < 1 || rest.length > 2 || (at < line.length && !/[ \t]/.test(line[at]) && line[at - 1] !== '}')) return null;
  const value = number(rest[0]);
  return value === null ? null : { name: name[0], labels, value };
}

function number(text) {
  if (/^[+-]?inf(inity)?$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN;
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : null;
}

/** A number in at most three significant digits with k, M, G, T: 1234 -> "1.23k", 0.5 -> "0.5". */
export function compact(value) {
  if (typeof value !== 'number' || Number.isNaN(value)) return '—';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
  if (value < 0) return `-${compact(-value)}`;
  if (value < 1000) return String(Number(value.toPrecision(3)));
  let unit = 0; let scaled = value;
  while (unit < 4 && Number(scaled.toPrecision(3)) >= 1000) { scaled /= 1000; unit++; }
  return `${Number(scaled.toPrecision(3))}${['', 'k', 'M', 'G', 'T'][unit]}`;
}

/**
 * Replaces <container>'s children with a line chart: {title, series: [{name, points: [[x, y]…], className}], xLabel,
 * yLabel, yMax (the y axis reaches at least this)}. x values above 1e11 are read as times (ms since 1970).
 */
export function lineChart(container, { title = '', series = [], xLabel = '', yLabel = '', yMax } = {}) {
  if (!container) return;
  const [width, height, left, right, top, bottom] = [640, 244, 52, 16, 40, 192];
  const lines = series.map((s) => ({ ...s, points: (s.points ?? []).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).sort((a, b) => a[0] - b[0]) }));
  const all = lines.flatMap((s) => s.points);
  const { svg, add } = frame(container, title, `${title}. ${lines.map((s) => `${s.name}: ${s.points.length} points${s.points.length ? `, last ${compact(s.points[s.points.length - 1][1])}` : ''}`).join('; ')}`, width, height);
  add('text', { x: 4, y: 28, class: 'chart-label' }, yLabel);
  add('text', { x: (left + width - right) / 2, y: bottom + 30, 'text-anchor': 'middle', class: 'chart-label' }, xLabel);
  let [x0, x1] = all.length ? extent(all.map((p) => p[0])) : [0, 1];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  const [low, high] = extent([0, ...all.map((p) => p[1]), ...(Number.isFinite(yMax) ? [yMax] : [])]);
  const [y0, y1] = [low, low + nice(high - low)];
  const sx = (x) => left + ((x - x0) / (x1 - x0)) * (width - right - left);
  const sy = (y) => bottom - ((y - y0) / (y1 - y0)) * (bottom - top);
  for (let i = 0; i <= 4; i++) {
    const y = y0 + ((y1 - y0) * i) / 4;
    add('line', { x1: left, x2: width - right, y1: sy(y), y2: sy(y), class: i === 0 ? 'chart-axis' : 'chart-grid' });
    add('text', { x: left - 6, y: sy(y) + 4, 'text-anchor': 'end', class: 'chart-tick' }, compact(y));
  }
  add('line', { x1: left, x2: left, y1: top, y2: bottom, class: 'chart-axis' });
  const times = x0 > 1e11;
  for (let i = 0; i <= 3; i++) {
    const x = x0 + ((x1 - x0) * i) / 3;
    add('text', { x: sx(x), y: bottom + 15, 'text-anchor': ['start', 'middle', 'middle', 'end'][i], class: 'chart-tick' }, times ? when(x, x1 - x0) : compact(x));
  }
  if (all.length === 0) add('text', { x: (left + width - right) / 2, y: (top + bottom) / 2, 'text-anchor': 'middle', class: 'chart-empty' }, 'no data yet');
  for (const line of lines) {
    if (line.points.length > 1) add('polyline', { points: line.points.map(([x, y]) => `${round(sx(x))},${round(sy(y))}`).join(' '), fill: 'none', class: classes('chart-line', line.className) });
    else if (line.points.length === 1) add('circle', { cx: sx(line.points[0][0]), cy: sy(line.points[0][1]), r: 3, class: classes('chart-dot', line.className) });
  }
  legend(add, lines, left, height - 6);
  return svg;
}

/**
 * Replaces <container>'s children with horizontal bars: {title, bars: [{label, value, max (the bar's full length;
 * default the largest value), className}]}; at most 40 bars are drawn, the rest counted.
 */
export function barChart(container, { title = '', bars = [] } = {}) {
  if (!container) return;
  const shown = bars.slice(0, MAX_BARS);
  const [width, rowHeight, top, labelWidth, right] = [640, 22, 30, 190, 64];
  const height = top + Math.max(1, shown.length) * rowHeight + (bars.length > shown.length ? rowHeight : 8);
  const { svg, add } = frame(container, title, `${title}. ${shown.map((b) => `${String(b.label)}: ${compact(b.value)}`).join('; ')}`, width, height);
  const fallback = extent([0, ...shown.map((b) => (Number.isFinite(b.value) ? b.value : 0))])[1];
  if (shown.length === 0) add('text', { x: width / 2, y: top + 14, 'text-anchor': 'middle', class: 'chart-empty' }, 'nothing to show');
  shown.forEach((bar, i) => {
    const y = top + i * rowHeight;
    const max = Number.isFinite(bar.max) && bar.max > 0 ? bar.max : fallback;
    const value = Number.isFinite(bar.value) ? Math.max(0, bar.value) : 0;
    const span = width - labelWidth - right;
    const label = String(bar.label ?? '');
    add('text', { x: labelWidth - 8, y: y + 15, 'text-anchor': 'end', class: 'chart-tick' }, label.length > MAX_LABEL ? `${label.slice(0, MAX_LABEL - 1)}…` : label);
    add('rect', { x: labelWidth, y: y + 3, width: span, height: rowHeight - 6, class: 'chart-track' });
    add('rect', { x: labelWidth, y: y + 3, width: max > 0 ? round(Math.min(1, value / max) * span) : 0, height: rowHeight - 6, class: classes('chart-bar', bar.className) });
    add('text', { x: width - right + 6, y: y + 15, class: 'chart-tick' }, compact(bar.value));
  });
  if (bars.length > shown.length) add('text', { x: labelWidth, y: height - 6, class: 'chart-label' }, `and ${bars.length - shown.length} more`);
  return svg;
}

/** An <svg role="img"> titled and described, in place of <container>'s children; add(tag, attributes, text) draws. */
function frame(container, title, description, width, height) {
  const doc = container.ownerDocument ?? globalThis.document;
  const id = `chart-${++charts}`;
  const make = (tag, attributes, text) => {
    const element = doc.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, typeof value === 'number' ? String(round(value)) : value);
    if (text !== undefined) element.textContent = String(text);
    return element;
  };
  const svg = make('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', class: 'chart-svg', 'aria-labelledby': `${id}-title ${id}-desc` });
  svg.appendChild(make('title', { id: `${id}-title` }, title));
  svg.appendChild(make('desc', { id: `${id}-desc` }, description));
  svg.appendChild(make('text', { x: 4, y: 14, class: 'chart-title' }, title));
  container.replaceChildren(svg);
  return { svg, add: (tag, attributes, text) => svg.appendChild(make(tag, attributes, text)) };
}

function legend(add, lines, x, y) {
  let at = x;
  for (const line of lines) {
    const name = String(line.name ?? '').slice(0, MAX_LABEL);
    add('rect', { x: at, y: y - 9, width: 10, height: 10, class: classes('chart-swatch', line.className) });
    add('text', { x: at + 14, y, class: 'chart-tick' }, name);
    at += 30 + 7 * name.length;
  }
}

/** [smallest, largest] of a non-empty array of numbers, without spreading it into arguments (it may be long). */
function extent(values) {
  let [low, high] = [Infinity, -Infinity];
  for (const v of values) { if (v < low) low = v; if (v > high) high = v; }
  return [low, high];
}

/** The smallest of 1, 1.2, 1.6, 2, 3, 4, 5, 6, 8 × 10^n at or above value (1 for none): a top whose quarters are round. */
function nice(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 1.2, 1.6, 2, 3, 4, 5, 6, 8, 10].map((m) => m * power).find((v) => v >= value * (1 - 1e-12));
}

function when(ms, span) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}${span < 120_000 ? `:${pad(d.getSeconds())}` : ''}`;
  return span >= 2 * 86_400_000 ? day : time;
}

/** <own> and those of the caller's class names that are plain identifiers. */
function classes(own, names) {
  return [own, ...String(names ?? '').split(/\s+/).filter((c) => /^[A-Za-z_][A-Za-z0-9_-]{0,40}$/.test(c))].join(' ');
}

function round(value) {
  return Math.round(value * 10) / 10;
}
