// The pictures: answers, refusals and tokens over time from the entries the explorer read (the record itself), and
// seal latency, memory against the budget and witness lag sampled from /metrics and /status while the page is open.
import { barChart, lineChart, parsePrometheus, timeSeries } from './charts.js';

const SAMPLE_MS = 5_000;
const KEEP = 120;

/** Draws the record's pictures from decoded entries (as the explorer holds them). */
export function drawRecord(root, entries) {
  const buckets = timeSeries(entries, 24);
  const at = (b) => Date.parse(b.start);
  lineChart(root.querySelector('#picture-activity'), {
    title: 'Answers and refusals (entries read)',
    xLabel: 'time',
    yLabel: 'entries',
    series: [
      { name: 'answers', className: 'series-ok', points: buckets.map((b) => [at(b), b.answers]) },
      { name: 'refusals', className: 'series-bad', points: buckets.map((b) => [at(b), b.refusals]) },
    ],
  });
  lineChart(root.querySelector('#picture-tokens'), {
    title: 'Tokens (entries read)',
    xLabel: 'time',
    yLabel: 'tokens',
    series: [
      { name: 'prompt', className: 'series-a', points: buckets.map((b) => [at(b), b.promptTokens]) },
      { name: 'completion', className: 'series-b', points: buckets.map((b) => [at(b), b.completionTokens]) },
    ],
  });
}

function sum(samples, name) {
  return samples.filter((s) => s.name === name).reduce((total, s) => total + s.value, 0);
}

/**
 * Samples /metrics and /status every few seconds while the page is open and redraws the live pictures; returns a
 * function that stops it. <fetchText(path)> and <fetchJson(path)> read from the server with the key in use.
 */
export function sampleLive(root, { fetchText, fetchJson, onError }) {
  const seal = [];
  const memory = [];
  let previous = null;
  let stopped = false;

  async function sample() {
    const now = Date.now();
    const metrics = parsePrometheus(await fetchText('/metrics'));
    const count = sum(metrics, 'sios_seal_duration_milliseconds_count');
    const total = sum(metrics, 'sios_seal_duration_milliseconds_sum');
    if (previous && count > previous.count) seal.push([now, (total - previous.total) / (count - previous.count)]);
    previous = { count, total };
    const buckets = metrics.filter((s) => s.name === 'sios_seal_duration_milliseconds_bucket' && s.labels.le !== '+Inf');
    const status = await fetchJson('/status');
    memory.push([now, status.memory.used_bytes / (1 << 20)]);
    for (const series of [seal, memory]) while (series.length > KEEP) series.shift();

    lineChart(root.querySelector('#picture-seal'), {
      title: 'Seal latency, mean per sample (ms)',
      xLabel: 'time',
      yLabel: 'ms',
      series: [{ name: 'seal', className: 'series-a', points: seal }],
    });
    if (buckets.length > 0) {
      let below = 0;
      barChart(root.querySelector('#picture-seal-buckets'), {
        title: `Seals by latency since start (${count} in all)`,
        bars: buckets.map((b) => {
          const bar = { label: `≤ ${b.labels.le} ms`, value: b.value - below, max: count, className: 'series-a' };
          below = b.value;
          return bar;
        }),
      });
    }
    const budget = status.memory.budget_bytes / (1 << 20);
    lineChart(root.querySelector('#picture-memory'), {
      title: 'Brains memory against the budget (MiB)',
      xLabel: 'time',
      yLabel: 'MiB',
      yMax: budget,
      series: [
        { name: 'in use', className: 'series-a', points: memory },
        { name: 'budget', className: 'series-bad', points: memory.length > 0 ? [[memory[0][0], budget], [now, budget]] : [] },
      ],
    });
    const witnesses = status.witnessing?.witnesses ?? [];
    barChart(root.querySelector('#picture-witness'), {
      title: witnesses.length > 0 ? 'Witness lag (entries behind this node\'s log)' : 'Witness lag: no witness policy on this node',
      bars: witnesses.map((w) => ({ label: w.name, value: Math.max(0, status.log_size - w.held_size), max: Math.max(1, status.log_size), className: 'series-b' })),
    });
  }

  async function loop() {
    while (!stopped) {
      try {
        await sample();
      } catch (e) {
        onError(e);
      }
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
    }
  }
  loop();
  return () => { stopped = true; };
}
