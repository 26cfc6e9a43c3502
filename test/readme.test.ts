// The README is part of the product: its configuration table must say what the code accepts.
// Regenerate it with `npm run docs:config` after adding a setting.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configTableMarkdown } from '../server/config.js';

it('has a configuration table that matches the settings', () => {
  const readme = readFileSync('README.md', 'utf8');
  const block = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme);
  assert.ok(block, 'README has the config-table markers');
  assert.equal(block[1], configTableMarkdown(), 'README table is stale: run npm run docs:config');
});

it('starts with the command that runs Mailpen and the command that runs the tests', () => {
  const readme = readFileSync('README.md', 'utf8');
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  assert.match(firstBlock, /npm start/);
  assert.match(firstBlock, /npm test/);
});
