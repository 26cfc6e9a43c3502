#!/usr/bin/env node
// Prints `--env K=V` arguments for container-check from a compose file's `environment:` map (the
// simple YAML of examples/switch-from-*/docker-compose.yml: one service, `KEY: value` lines), so
// CI starts the image with exactly the variables the example gives it.
import { readFileSync } from 'node:fs';

const lines = readFileSync(process.argv[2], 'utf8').split('\n');
const args = [];
let indent = -1;
for (const line of lines) {
  const m = /^(\s*)environment:\s*$/.exec(line);
  if (m) {
    indent = m[1].length;
    continue;
  }
  if (indent < 0 || line.trim() === '' || line.trim().startsWith('#')) continue;
  const entry = /^(\s*)([A-Z0-9_]+):\s*(.*)$/.exec(line);
  if (!entry || entry[1].length <= indent) {
    indent = -1;
    continue;
  }
  args.push('--env', `${entry[2]}=${entry[3].replace(/^["']|["']$/g, '')}`);
}
if (args.length === 0) {
  process.stderr.write(`compose-env: no environment in ${process.argv[2]}\n`);
  process.exit(1);
}
process.stdout.write(args.join(' ') + '\n');
