// Checks Adaptive Cards with the official `adaptivecards` parser (the JS SDK that renders cards
// in web hosts). Usage: node adaptivecards-check.mjs cards.json
// cards.json: [{ "name": "...", "card": { ...AdaptiveCard... } }, ...]
// Prints one line per problem and exits 1 when there is any; prints "N cards ok" otherwise.
// Problems: parse events (errors and warnings: unknown types, invalid values, unsupported
// versions ...), validateProperties() events (duplicate ids, missing labels ...), and any
// property the parser did not understand (dropped when the parsed card is serialised again).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
// The package's ES module build has extension-less imports that Node cannot resolve; its UMD
// bundle works in Node and parses without a DOM.
const AC = require("adaptivecards/dist/adaptivecards.js");

// Properties the parser understands but does not write back (it keeps an action's fallback only
// when the action itself is unknown).
const notRoundTripped = new Set(["fallback"]);

function lostProperties(source, parsed, path, problems) {
  if (Array.isArray(source)) {
    if (!Array.isArray(parsed) || parsed.length !== source.length) {
      problems.push(`${path}: array of ${source.length} became ${Array.isArray(parsed) ? parsed.length : typeof parsed}`);
      return;
    }
    source.forEach((item, i) => lostProperties(item, parsed[i], `${path}[${i}]`, problems));
    return;
  }
  if (source === null || typeof source !== "object") {
    return;
  }
  if (parsed === null || typeof parsed !== "object") {
    problems.push(`${path}: object was dropped`);
    return;
  }
  for (const [key, value] of Object.entries(source)) {
    if (notRoundTripped.has(key)) {
      continue;
    }
    if (!(key in parsed)) {
      problems.push(`${path}.${key}: not understood by the parser (dropped)`);
      continue;
    }
    lostProperties(value, parsed[key], `${path}.${key}`, problems);
  }
}

function check(name, json) {
  const problems = [];
  const context = new AC.SerializationContext(new AC.Version(1, 5));
  const card = new AC.AdaptiveCard();
  card.parse(json, context);
  for (let i = 0; i < context.eventCount; i++) {
    const e = context.getEventAt(i);
    problems.push(`parse ${AC.ValidationEvent[e.event]}: ${e.message}`);
  }
  const results = card.validateProperties();
  for (const e of results.validationEvents) {
    problems.push(`validate ${AC.ValidationEvent[e.event]}: ${e.message}`);
  }
  if (json.version !== "1.5") {
    problems.push(`version is ${json.version}, expected 1.5`);
  }
  if (card.version.toString() !== "1.5") {
    problems.push(`parsed version is ${card.version.toString()}`);
  }
  lostProperties(json, card.toJSON(), "card", problems);
  return problems.map((p) => `${name}: ${p}`);
}

const file = process.argv[2];
if (!file) {
  console.error("usage: node adaptivecards-check.mjs cards.json");
  process.exit(2);
}

const cards = JSON.parse(readFileSync(file, "utf8"));
const problems = cards.flatMap(({ name, card }) => check(name, card));
for (const problem of problems) {
  console.log(problem);
}
if (problems.length > 0) {
  console.log(`${problems.length} problem(s) in ${cards.length} cards`);
  process.exit(1);
}
console.log(`${cards.length} cards ok (adaptivecards ${require("adaptivecards/package.json").version})`);
