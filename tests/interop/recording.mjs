// A fetch that records every exchange for the C# side to verify: the exact request body and every response byte
// (including the `: sios` SSE comment the clients themselves skip). `label()` names the step each exchange belongs to.
export function recorder(label = () => '') {
  const exchanges = [];
  async function recordingFetch(url, init) {
    const response = await fetch(url, init);
    const copy = response.clone();
    exchanges.push({
      step: label(),
      url: String(url),
      method: init?.method ?? 'GET',
      request: init?.body ? Buffer.from(init.body).toString('base64') : '',
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: copy.arrayBuffer().then((bytes) => Buffer.from(bytes).toString('base64')),
    });
    return response;
  }

  // Writes the results and the exchanges, their bodies read in full, as one JSON object on stdout.
  async function report(results) {
    for (const exchange of exchanges) {
      exchange.body = await exchange.body;
    }
    process.stdout.write(JSON.stringify({ results, exchanges }));
  }

  return { fetch: recordingFetch, report };
}
