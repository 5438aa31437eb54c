// A real third-party MCP client (the TypeScript SDK) for the end-to-end tests.
// usage: node mcp-call.mjs URL STEPS_JSON [BEARER]
// STEPS_JSON: [{"op":"listTools"} | {"op":"callTool","name":"…","args":{…},"progress":true}]
// Prints one JSON object: {"results":[…], "progress":[…]} — errors are results, never crashes.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, stepsJson, bearer] = process.argv.slice(2);
const steps = JSON.parse(stepsJson);
const headers = bearer ? { Authorization: `Bearer ${bearer}` } : {};
const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
const client = new Client({ name: "ts-sdk-e2e", version: "1.0.0" });
const output = { results: [], progress: [] };
try {
  await client.connect(transport);
  output.serverInfo = client.getServerVersion();
  for (const step of steps) {
    try {
      if (step.op === "listTools") {
        const all = [];
        let cursor;
        do {
          const page = await client.listTools(cursor ? { cursor } : {});
          all.push(...page.tools);
          cursor = page.nextCursor;
        } while (cursor);
        output.results.push({ op: step.op, tools: all });
      } else if (step.op === "callTool") {
        const options = { timeout: step.timeoutMs ?? 60000 };
        if (step.progress) {
          options.onprogress = p => output.progress.push(p);
          options.resetTimeoutOnProgress = true;
        }
        const result = await client.callTool({ name: step.name, arguments: step.args ?? {} }, undefined, options);
        output.results.push({ op: step.op, result });
      }
    } catch (e) {
      output.results.push({ op: step.op, error: { code: e.code ?? null, message: String(e.message ?? e) } });
    }
  }
} catch (e) {
  output.connectError = String(e.message ?? e);
} finally {
  await client.close().catch(() => {});
}
process.stdout.write(JSON.stringify(output));
