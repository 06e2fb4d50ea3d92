// Renders chat templates with the reference renderer @huggingface/jinja, for the conformance tests of
// src/Sios.Templates. stdin: { "now": "<ISO instant>"?, "cases": [ { "template", "variables" } ] };
// stdout: one entry per case, { "text" } or { "error" }.
// strftime_now reads `new Date()`: with "now" set, the clock is pinned to that instant so both renderers see
// the same time (run with TZ=UTC so local time is that instant's UTC fields, as the C# side's fixed clock gives).
import { Template } from "@huggingface/jinja";

const chunks = [];
for await (const chunk of process.stdin) {
  chunks.push(chunk);
}
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));

if (input.now) {
  const fixed = Date.parse(input.now);
  const RealDate = Date;
  globalThis.Date = class extends RealDate {
    constructor(...args) {
      super(...(args.length === 0 ? [fixed] : args));
    }

    static now() {
      return fixed;
    }
  };
}

const results = input.cases.map(({ template, variables }) => {
  try {
    return { text: new Template(template).render(variables) };
  } catch (error) {
    return { error: String(error?.message ?? error) };
  }
});
process.stdout.write(JSON.stringify(results));
