// `npm run docs:config`: rewrites the README's configuration table from the settings.
import { readFileSync, writeFileSync } from 'node:fs';
import { configTableMarkdown } from '../../server/config.js';

const readme = readFileSync('README.md', 'utf8');
writeFileSync(
  'README.md',
  readme.replace(/(<!-- config-table:start -->\n)[\s\S]*?(<!-- config-table:end -->)/, (_, start: string, end: string) => `${start}${configTableMarkdown()}\n${end}`),
);
