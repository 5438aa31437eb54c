// Lets @modelcontextprotocol/conformance 0.1.16 run on Node 20: its bundle imports fs.globSync
// (Node 22+) at the top, though only the tier-check command calls it. Use: node --import ./node20.mjs …
import { register } from 'node:module';
import fs from 'node:fs';

if (typeof fs.globSync !== 'function') {
  register('./node20-hooks.mjs', import.meta.url);
}
