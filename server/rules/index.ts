// Fault rules (issue 14): SMTP failures on purpose, deterministic, scoped and counted. What other
// parts of Mailpen use: the rule set and its function API (list, replace, append, setEnabled,
// remove, clear; RuleError for a refused change), the SMTP glue, and the rules file.
export { FaultRules, type FiredRule, type FiredListener, type Decision } from './rules.js';
export { RuleError, RuleInputSchema, RuleSchema, STAGES, MAX_DELAY_MS, MAX_RULES, validateRule, validateRules, type RuleInput, type RuleView, type Stage } from './model.js';
export { SmtpFaults } from './smtp.js';
export { loadRulesFile } from './file.js';
export { parseChaosTriggers, setChaosTriggers, chaosTriggers, CHAOS_PREFIX, type ChaosTrigger, type ChaosTriggers } from './chaos.js';
