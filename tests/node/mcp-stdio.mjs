// A real MCP client launching a server as a process, the way Claude Desktop, Cursor or VS Code do
// (the TypeScript SDK's StdioClientTransport), then running steps at once, without waiting.
// usage: node mcp-stdio.mjs SPEC_JSON
// SPEC_JSON: {"command":"…","args":[…],"cwd":"…","steps":[{"op":"listTools"} | {"op":"callTool","name":"…","args":{…}}]}
// Prints one JSON object: {"results":[…], "firstListMs": n, "connectMs": n} — errors are results, never crashes.
// firstListMs (process start to the first complete tools/list) is for bench/, not for assertions.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const spec = JSON.parse(process.argv[2]);
const started = performance.now();
const transport = new StdioClientTransport({
  command: spec.command,
  args: spec.args ?? [],
  cwd: spec.cwd,
  env: { ...process.env, ...(spec.env ?? {}) },
  stderr: "pipe",
});
let stderr = "";
transport.stderr?.on("data", chunk => { stderr = (stderr + chunk).slice(-4000); });
const client = new Client({ name: "ts-sdk-stdio-e2e", version: "1.0.0" });
const output = { results: [] };
try {
  await client.connect(transport);
  output.connectMs = Math.round(performance.now() - started);
  output.serverInfo = client.getServerVersion();
  for (const step of spec.steps ?? []) {
    try {
      if (step.op === "listTools") {
        const all = [];
        let cursor;
        do {
          const page = await client.listTools(cursor ? { cursor } : {});
          all.push(...page.tools);
          cursor = page.nextCursor;
        } while (cursor);
        output.firstListMs ??= Math.round(performance.now() - started);
        output.results.push({ op: step.op, tools: all });
      } else if (step.op === "callTool") {
        const result = await client.callTool({ name: step.name, arguments: step.args ?? {} }, undefined, { timeout: step.timeoutMs ?? 60000 });
        output.results.push({ op: step.op, result });
      }
    } catch (e) {
      output.results.push({ op: step.op, error: { code: e.code ?? null, message: String(e.message ?? e) } });
    }
  }
} catch (e) {
  output.connectError = String(e.message ?? e);
  output.stderr = stderr;
} finally {
  await client.close().catch(() => {});
}
process.stdout.write(JSON.stringify(output));
