// A conformance-complete MCP server for the official suite (@modelcontextprotocol/conformance),
// written from the requirements the suite prints for each server scenario. The end-to-end tests
// run the suite against it directly and through the gateway.
//   node server.mjs http [port]   Streamable HTTP on 127.0.0.1 (port 0: any free one); prints "listening <url>"
//   node server.mjs stdio         stdio
import { randomUUID } from "node:crypto";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ErrorCode,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";

// 1x1 red PNG and a 44-byte silent WAV.
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const WAV = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=";

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
const text = value => ({ content: [{ type: "text", text: value }] });
const noArguments = { type: "object", properties: {} };

const tools = [
  { name: "test_simple_text", description: "Returns simple text", inputSchema: noArguments },
  { name: "test_image_content", description: "Returns a PNG image", inputSchema: noArguments },
  { name: "test_audio_content", description: "Returns WAV audio", inputSchema: noArguments },
  { name: "test_embedded_resource", description: "Returns an embedded resource", inputSchema: noArguments },
  { name: "test_multiple_content_types", description: "Returns text, image and resource", inputSchema: noArguments },
  { name: "test_tool_with_logging", description: "Logs three messages while it runs", inputSchema: noArguments },
  { name: "test_tool_with_progress", description: "Reports progress 0, 50, 100 of 100", inputSchema: noArguments },
  { name: "test_error_handling", description: "Always fails", inputSchema: noArguments },
  {
    name: "test_sampling",
    description: "Asks the client's LLM",
    inputSchema: { type: "object", properties: { prompt: { type: "string", description: "The prompt to send to the LLM" } }, required: ["prompt"] },
  },
  {
    name: "test_elicitation",
    description: "Asks the user",
    inputSchema: { type: "object", properties: { message: { type: "string", description: "The message to show the user" } }, required: ["message"] },
  },
  { name: "test_elicitation_sep1034_defaults", description: "Elicitation with defaults for every primitive type", inputSchema: noArguments },
  { name: "test_elicitation_sep1330_enums", description: "Elicitation with the five enum forms", inputSchema: noArguments },
  {
    name: "json_schema_2020_12_tool",
    description: "Tool with JSON Schema 2020-12 features",
    inputSchema: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      $defs: { address: { type: "object", properties: { street: { type: "string" }, city: { type: "string" } } } },
      properties: { name: { type: "string" }, address: { $ref: "#/$defs/address" } },
      additionalProperties: false,
    },
  },
  { name: "test_reconnection", description: "Closes its SSE stream mid-call, then answers (SEP-1699)", inputSchema: noArguments },
];

const resources = [
  { uri: "test://static-text", name: "static-text", description: "A static text resource", mimeType: "text/plain" },
  { uri: "test://static-binary", name: "static-binary", description: "A static binary resource", mimeType: "image/png" },
  { uri: "test://watched-resource", name: "watched-resource", description: "A resource to subscribe to", mimeType: "text/plain" },
];

const prompts = [
  { name: "test_simple_prompt", description: "A prompt without arguments" },
  {
    name: "test_prompt_with_arguments",
    description: "A prompt with two arguments",
    arguments: [
      { name: "arg1", description: "First test argument", required: true },
      { name: "arg2", description: "Second test argument", required: true },
    ],
  },
  {
    name: "test_prompt_with_embedded_resource",
    description: "A prompt embedding a resource",
    arguments: [{ name: "resourceUri", description: "URI of the resource to embed", required: true }],
  },
  { name: "test_prompt_with_image", description: "A prompt with an image" },
];

function createServer() {
  const server = new Server(
    { name: "approvalbot-conformance-server", version: "1.0.0" },
    { capabilities: { tools: {}, resources: { subscribe: true }, prompts: {}, logging: {}, completions: {} } },
  );
  const subscriptions = new Set();

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const args = request.params.arguments ?? {};
    const log = async data => {
      if (!server.isMessageIgnored("info", extra.sessionId)) {
        // Related to the request, so it travels with it (on its POST stream over HTTP).
        await extra.sendNotification({ method: "notifications/message", params: { level: "info", logger: "conformance", data } });
      }
    };
    switch (request.params.name) {
      case "test_simple_text":
        return text("This is a simple text response for testing.");
      case "test_image_content":
        return { content: [{ type: "image", data: PNG, mimeType: "image/png" }] };
      case "test_audio_content":
        return { content: [{ type: "audio", data: WAV, mimeType: "audio/wav" }] };
      case "test_embedded_resource":
        return { content: [{ type: "resource", resource: { uri: "test://embedded-resource", mimeType: "text/plain", text: "This is an embedded resource content." } }] };
      case "test_multiple_content_types":
        return {
          content: [
            { type: "text", text: "Multiple content types test:" },
            { type: "image", data: PNG, mimeType: "image/png" },
            { type: "resource", resource: { uri: "test://mixed-content-resource", mimeType: "application/json", text: JSON.stringify({ test: "data", value: 123 }) } },
          ],
        };
      case "test_tool_with_logging":
        await log("Tool execution started");
        await sleep(50);
        await log("Tool processing data");
        await sleep(50);
        await log("Tool execution completed");
        return text("Tool with logging executed successfully");
      case "test_tool_with_progress": {
        const token = request.params._meta?.progressToken;
        for (const progress of [0, 50, 100]) {
          if (token !== undefined) {
            await extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress, total: 100 } });
          }

          if (progress < 100) {
            await sleep(50);
          }
        }

        // The result follows the last notification at once: the case where a proxy loses it.
        return text("Tool with progress executed successfully");
      }
      case "test_error_handling":
        return { isError: true, content: [{ type: "text", text: "This tool intentionally returns an error for testing" }] };
      case "test_sampling": {
        const result = await extra.sendRequest(
          { method: "sampling/createMessage", params: { messages: [{ role: "user", content: { type: "text", text: String(args.prompt) } }], maxTokens: 100 } },
          CreateMessageResultSchema,
        );
        return text(`LLM response: ${result.content?.type === "text" ? result.content.text : JSON.stringify(result.content)}`);
      }
      case "test_elicitation": {
        const result = await extra.sendRequest(
          {
            method: "elicitation/create",
            params: {
              message: String(args.message),
              requestedSchema: {
                type: "object",
                properties: {
                  username: { type: "string", description: "User's response" },
                  email: { type: "string", description: "User's email address" },
                },
                required: ["username", "email"],
              },
            },
          },
          ElicitResultSchema,
        );
        return text(`User response: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`);
      }
      case "test_elicitation_sep1034_defaults":
        return elicitCompleted(extra, {
          message: "Please review your information",
          requestedSchema: {
            type: "object",
            properties: {
              name: { type: "string", description: "Name", default: "John Doe" },
              age: { type: "integer", description: "Age", default: 30 },
              score: { type: "number", description: "Score", default: 95.5 },
              status: { type: "string", description: "Status", enum: ["active", "inactive", "pending"], default: "active" },
              verified: { type: "boolean", description: "Verified", default: true },
            },
          },
        });
      case "test_elicitation_sep1330_enums":
        return elicitCompleted(extra, {
          message: "Please choose",
          requestedSchema: {
            type: "object",
            properties: {
              untitledSingle: { type: "string", enum: ["option1", "option2", "option3"] },
              titledSingle: {
                type: "string",
                oneOf: [
                  { const: "value1", title: "First Option" },
                  { const: "value2", title: "Second Option" },
                  { const: "value3", title: "Third Option" },
                ],
              },
              legacyEnum: { type: "string", enum: ["opt1", "opt2", "opt3"], enumNames: ["Option One", "Option Two", "Option Three"] },
              untitledMulti: { type: "array", items: { type: "string", enum: ["option1", "option2", "option3"] } },
              titledMulti: {
                type: "array",
                items: {
                  anyOf: [
                    { const: "value1", title: "First Choice" },
                    { const: "value2", title: "Second Choice" },
                    { const: "value3", title: "Third Choice" },
                  ],
                },
              },
            },
          },
        });
      case "json_schema_2020_12_tool":
        return text(`Received: ${JSON.stringify(args)}`);
      case "test_reconnection":
        // SEP-1699: end the POST stream mid-call; the client resumes with Last-Event-ID and gets the result.
        await sleep(100);
        extra.closeSSEStream?.();
        await sleep(200);
        return text("Reconnection test completed successfully");
      default:
        throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [{ uriTemplate: "test://template/{id}/data", name: "template-data", description: "Data by id", mimeType: "application/json" }],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async request => {
    const uri = request.params.uri;
    if (uri === "test://static-text") {
      return { contents: [{ uri, mimeType: "text/plain", text: "This is the content of the static text resource." }] };
    }

    if (uri === "test://static-binary") {
      return { contents: [{ uri, mimeType: "image/png", blob: PNG }] };
    }

    if (uri === "test://watched-resource") {
      return { contents: [{ uri, mimeType: "text/plain", text: "Watched resource content." }] };
    }

    const match = /^test:\/\/template\/([^/]+)\/data$/.exec(uri);
    if (match) {
      const id = decodeURIComponent(match[1]);
      return { contents: [{ uri, mimeType: "application/json", text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }) }] };
    }

    throw new McpError(-32002, `Resource not found: ${uri}`);
  });
  server.setRequestHandler(SubscribeRequestSchema, async request => {
    subscriptions.add(request.params.uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async request => {
    subscriptions.delete(request.params.uri);
    return {};
  });

  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts }));
  server.setRequestHandler(GetPromptRequestSchema, async request => {
    const args = request.params.arguments ?? {};
    switch (request.params.name) {
      case "test_simple_prompt":
        return { messages: [{ role: "user", content: { type: "text", text: "This is a simple prompt for testing." } }] };
      case "test_prompt_with_arguments":
        return { messages: [{ role: "user", content: { type: "text", text: `Prompt with arguments: arg1='${args.arg1}', arg2='${args.arg2}'` } }] };
      case "test_prompt_with_embedded_resource":
        return {
          messages: [
            { role: "user", content: { type: "resource", resource: { uri: args.resourceUri, mimeType: "text/plain", text: "Embedded resource content for testing." } } },
            { role: "user", content: { type: "text", text: "Please process the embedded resource above." } },
          ],
        };
      case "test_prompt_with_image":
        return {
          messages: [
            { role: "user", content: { type: "image", data: PNG, mimeType: "image/png" } },
            { role: "user", content: { type: "text", text: "Please analyze the image above." } },
          ],
        };
      default:
        throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${request.params.name}`);
    }
  });

  server.setRequestHandler(CompleteRequestSchema, async request => {
    const candidates = ["paris", "park", "party"];
    const values = candidates.filter(v => v.startsWith(request.params.argument?.value ?? ""));
    return { completion: { values, total: values.length, hasMore: false } };
  });

  return server;
}

async function elicitCompleted(extra, params) {
  const result = await extra.sendRequest({ method: "elicitation/create", params }, ElicitResultSchema);
  return text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`);
}

/** Keeps every event of every stream, so a client can resume after a closed stream (SEP-1699). */
class MemoryEventStore {
  #events = new Map();

  async storeEvent(streamId, message) {
    const eventId = `${streamId}_${Date.now()}_${randomUUID().slice(0, 8)}`;
    this.#events.set(eventId, { streamId, message });
    return eventId;
  }

  async getStreamIdForEventId(eventId) {
    return this.#events.get(eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId, { send }) {
    const streamId = this.#events.get(lastEventId)?.streamId;
    if (!streamId) {
      return "";
    }

    let after = false;
    for (const [eventId, { streamId: stream, message }] of this.#events) {
      if (stream === streamId && after) {
        await send(eventId, message);
      }

      after ||= eventId === lastEventId;
    }

    return streamId;
  }
}

async function serveHttp(port) {
  // Binding to 127.0.0.1 turns on the SDK's Host header check (DNS rebinding protection).
  const app = createMcpExpressApp({ host: "127.0.0.1" });
  const sessions = new Map();

  app.post("/mcp", async (req, res) => {
    const id = req.headers["mcp-session-id"];
    let transport = typeof id === "string" ? sessions.get(id) : undefined;
    if (!transport) {
      if (id !== undefined || req.body?.method !== "initialize") {
        res.status(id === undefined ? 400 : 404).json({ jsonrpc: "2.0", error: { code: -32000, message: "Bad Request: no valid session" }, id: null });
        return;
      }

      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        eventStore: new MemoryEventStore(),
        retryInterval: 500,
        onsessioninitialized: sessionId => sessions.set(sessionId, transport),
      });
      transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
      await createServer().connect(transport);
    }

    await transport.handleRequest(req, res, req.body);
  });

  const existing = async (req, res) => {
    const transport = sessions.get(req.headers["mcp-session-id"]);
    if (!transport) {
      res.status(404).send("Session not found");
      return;
    }

    await transport.handleRequest(req, res);
  };
  app.get("/mcp", existing);
  app.delete("/mcp", existing);

  const listener = app.listen(port, "127.0.0.1", () => {
    process.stdout.write(`listening http://127.0.0.1:${listener.address().port}/mcp\n`);
  });
}

const [mode = "http", port = "0"] = process.argv.slice(2);
if (mode === "stdio") {
  await createServer().connect(new StdioServerTransport());
} else {
  await serveHttp(Number(port));
}
