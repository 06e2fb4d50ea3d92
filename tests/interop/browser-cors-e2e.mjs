// A real browser against a running SIOS gateway (SIOS_URL, SIOS_KEY, SIOS_BRAIN) served with
// --cors-origin http://127.0.0.1:SIOS_PAGE_PORT: headless Chromium (the system's, at CHROMIUM; never a downloaded build)
// opens a page on that origin and one on another, unlisted origin, and each page calls the API with fetch() as a
// browser app would (an Authorization header, so the browser sends a preflight first), and through the npm openai
// client loaded into the page (with the x-stainless-* headers it sends from a browser). The listed page must read the
// answers, their receipt headers and the error bodies; every call of the other page must be blocked by the browser.
// Prints { results: { listed, other }, exchanges, console } as JSON on stdout; exchanges are the listed page's answers
// in recording.mjs's form (the exact bytes sent and read), so the C# side verifies their receipts.
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

// Nothing here may hang a test run: the whole script has two minutes, the browser and each page step 30 s.
const watchdog = setTimeout(() => {
  process.stderr.write('browser-cors-e2e: no result after 120 s, giving up\n');
  process.exit(3);
}, 120_000);

// The page, and the packages of node_modules as ES modules for it to import.
const modules = fileURLToPath(new URL('./node_modules/', import.meta.url));
function servePage(port) {
  const server = http.createServer(async (request, response) => {
    const wanted = new URL(request.url, 'http://page').pathname;
    if (wanted.startsWith('/node_modules/')) {
      const file = path.join(modules, path.normalize(decodeURIComponent(wanted.slice('/node_modules/'.length))));
      const bytes = file.startsWith(modules) ? await readFile(file).catch(() => null) : null;
      response.writeHead(bytes ? 200 : 404, { 'content-type': 'text/javascript' });
      response.end(bytes ?? '');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><title>a browser app of another origin</title>');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

// Runs inside the page: the calls a browser app makes, each reduced to what the page could read (or its rejection).
async function callSios({ api, key, brain }) {
  const signal = () => AbortSignal.timeout(30_000);
  const base64 = (bytes) => btoa(Array.from(new Uint8Array(bytes), (b) => String.fromCharCode(b)).join(''));
  const names = ['content-type', 'sios-log-index', 'sios-receipt', 'sios-request-nonce', 'sios-response-nonce', 'sios-begin-index', 'server-timing'];
  const read = async (path, init) => {
    const exchange = { url: api + path, method: init.method ?? 'GET', request: init.body ? base64(new TextEncoder().encode(init.body)) : '' };
    try {
      const response = await fetch(api + path, { ...init, signal: signal() });
      const bytes = await response.arrayBuffer();
      const text = new TextDecoder().decode(bytes);
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {
        // A stream: its text is what the page reads.
      }
      return { ...exchange, status: response.status, headers: Object.fromEntries(names.map((n) => [n, response.headers.get(n)])), body: base64(bytes), text, json };
    } catch (error) {
      return { ...exchange, rejected: true, error: String(error) };
    }
  };
  const chat = (stream) => JSON.stringify({ model: brain, messages: [{ role: 'user', content: 'Hello from a browser' }], max_tokens: 8, stream });
  const post = (authorization, body) => ({ method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body });
  const request = chat(false);
  return {
    chat: await read('v1/chat/completions', post(`Bearer ${key}`, request)),
    stream: await read('v1/chat/completions', post(`Bearer ${key}`, chat(true))),
    // As Anthropic's SDK sends from a browser: its key header and its own headers, none of them known in advance.
    messages: await read('v1/messages', {
      method: 'POST',
      headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'anthropic-dangerous-direct-browser-access': 'true', 'content-type': 'application/json' },
      body: JSON.stringify({ model: brain, max_tokens: 8, messages: [{ role: 'user', content: 'Hello' }] }),
    }),
    unauthorised: await read('v1/chat/completions', post('Bearer sk-sios-not-a-key', request)),
    missing: await read('v1/nowhere', { headers: { authorization: `Bearer ${key}` } }),
    sdk: await (async () => {
      try {
        const { default: OpenAI } = await import('/node_modules/openai/index.mjs');
        const client = new OpenAI({ apiKey: key, baseURL: `${api}v1`, dangerouslyAllowBrowser: true, maxRetries: 0, timeout: 30_000 });
        const { data, response } = await client.chat.completions
          .create({ model: brain, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 8 })
          .withResponse();
        return { status: response.status, headers: { 'sios-log-index': response.headers.get('sios-log-index') }, json: data };
      } catch (error) {
        return { rejected: true, error: String(error) };
      }
    })(),
    // No header of its own: sent without a preflight, so only the answer's headers decide whether the page may read it.
    simple: await read('healthz', {}),
  };
}

const api = process.env.SIOS_URL.endsWith('/') ? process.env.SIOS_URL : `${process.env.SIOS_URL}/`;
const listedPage = await servePage(Number(process.env.SIOS_PAGE_PORT));
const otherPage = await servePage(0);
const logged = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  timeout: 30_000,
  // Chromium's sandbox cannot start as root (CI runs as root).
  args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
});
try {
  const results = {};
  for (const [name, server] of [['listed', listedPage], ['other', otherPage]]) {
    const page = await browser.newPage();
    page.setDefaultTimeout(30_000);
    page.on('console', (message) => logged.push(`${name}: ${message.text()}`));
    // The header names the page's requests carried, to show which ones the preflights let through.
    const sent = new Set();
    page.on('request', (request) => request.url().startsWith(api) && Object.keys(request.headers()).forEach((h) => sent.add(h)));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    const origin = await page.evaluate(() => location.origin);
    results[name] = { origin, ...(await page.evaluate(callSios, { api, key: process.env.SIOS_KEY, brain: process.env.SIOS_BRAIN })), sent: [...sent].sort() };
    await page.close();
  }
  const { chat, stream, messages } = results.listed;
  process.stdout.write(JSON.stringify({ results, exchanges: [chat, stream, messages], console: logged }));
} finally {
  await browser.close();
  listedPage.close();
  otherPage.close();
  clearTimeout(watchdog);
}
