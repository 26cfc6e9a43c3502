// The rules file (MAILPEN_RULES_FILE): a JSON array of rules, or { "rules": [...] }, validated
// exactly as PUT /api/rules validates its body. A bad file stops the start (exit code 2) with the
// reason, rather than running without the failures a test suite counts on.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config.js';
import { RuleError } from './model.js';
import type { FaultRules } from './rules.js';

export function loadRulesFile(path: string, rules: FaultRules): void {
  const where = `MAILPEN_RULES_FILE ${path}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${where}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${where}: not JSON (${(err as Error).message})`);
  }
  const list = json !== null && typeof json === 'object' && !Array.isArray(json) && 'rules' in json ? (json as { rules: unknown }).rules : json;
  try {
    rules.replace(list, 'rules');
  } catch (err) {
    if (err instanceof RuleError) throw new ConfigError(`${where}: ${err.message}`);
    throw err;
  }
}
