// A real third-party MCP client (the TypeScript SDK) for the end-to-end tests.
// usage: node mcp-call.mjs URL STEPS_JSON [BEARER]
// STEPS_JSON: [{"op":"listTools"} | {"op":"callTool","name":"…","args":{…},"progress":true,"timeoutMs":3000}
//             | {"op":"callToolTask","name":"…","args":{…},"cancel":false}   (MCP Tasks: callToolStream; "cancel" cancels once created)
//             | {"op":"listTasks"} | {"op":"setLoggingLevel","level":"debug"}
//             | {"op":"getTask","taskId":"…","waitMs":20000}   (polls tasks/get until the task ends or waitMs passes; then tasks/result)]
// Prints one JSON object: {"results":[…], "progress":[…], "events":[…]} — errors are results, never crashes.
// "events": progress, log messages and call results in the order this client received them.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CallToolResultSchema, LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";

const [url, stepsJson, bearer] = process.argv.slice(2);
const steps = JSON.parse(stepsJson);
const headers = bearer ? { Authorization: `Bearer ${bearer}` } : {};
const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
const client = new Client({ name: "ts-sdk-e2e", version: "1.0.0" });
const output = { results: [], progress: [], events: [] };
client.setNotificationHandler(LoggingMessageNotificationSchema, n => output.events.push({ type: "log", level: n.params.level, data: n.params.data }));
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
          options.onprogress = p => {
            output.progress.push(p);
            output.events.push({ type: "progress", ...p });
          };
          options.resetTimeoutOnProgress = true;
        }
        const started = Date.now();
        const result = await client.callTool({ name: step.name, arguments: step.args ?? {} }, undefined, options);
        output.results.push({ op: step.op, result, ms: Date.now() - started });
        output.events.push({ type: "result", name: step.name });
      } else if (step.op === "callToolTask") {
        const messages = [];
        const started = Date.now();
        const stream = client.experimental.tasks.callToolStream({ name: step.name, arguments: step.args ?? {} }, CallToolResultSchema, { task: {} });
        for await (const message of stream) {
          const entry = { type: message.type, ms: Date.now() - started };
          if (message.task) entry.task = message.task;
          if (message.result) entry.result = message.result;
          if (message.error) entry.error = { code: message.error.code ?? null, message: String(message.error.message ?? message.error) };
          messages.push(entry);
          if (message.type === "taskCreated" && step.cancel) {
            entry.cancelled = await client.experimental.tasks.cancelTask(message.task.taskId);
            entry.afterCancel = await client.experimental.tasks.getTask(message.task.taskId);
            break;
          }
        }
        output.results.push({ op: step.op, messages });
      } else if (step.op === "setLoggingLevel") {
        output.results.push({ op: step.op, result: await client.setLoggingLevel(step.level) });
      } else if (step.op === "getTask") {
        const deadline = Date.now() + (step.waitMs ?? 0);
        let task = await client.experimental.tasks.getTask(step.taskId);
        while (task.status === "working" && Date.now() < deadline) {
          await new Promise(r => setTimeout(r, 250));
          task = await client.experimental.tasks.getTask(step.taskId);
        }
        const entry = { op: step.op, task };
        if (task.status !== "working") entry.result = await client.experimental.tasks.getTaskResult(step.taskId, CallToolResultSchema);
        output.results.push(entry);
      } else if (step.op === "listTasks") {
        output.results.push({ op: step.op, list: await client.experimental.tasks.listTasks() });
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
