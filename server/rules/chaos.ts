// Mailpit's chaos triggers as fault rules, for the Mailpit compatibility layer (MP_ENABLE_CHAOS,
// MP_CHAOS_TRIGGERS, GET/PUT /api/v1/chaos). Mailpit has three triggers, each an error code and a
// percentage: Sender (at MAIL FROM), Recipient (at each RCPT TO) and Authentication (at AUTH).
// Here each is one rule with a `probability`, in a group of rules whose ids start with "chaos-",
// so setting the triggers leaves every other rule, and its counters, alone. The reply text is
// Mailpit's ("451 Chaos recipient error"), which clients' tests may look for.
import { RuleError, type RuleInput, type RuleView } from './model.js';
import type { FaultRules } from './rules.js';

/** What a bad trigger throws, for callers that import only this module. */
export { RuleError };

export interface ChaosTrigger {
  /** 400 to 599. */
  ErrorCode: number;
  /** 0 to 100, percent. */
  Probability: number;
}

export interface ChaosTriggers {
  Sender: ChaosTrigger;
  Recipient: ChaosTrigger;
  Authentication: ChaosTrigger;
}

export const CHAOS_PREFIX = 'chaos-';

const TRIGGERS = {
  Sender: { stage: 'mail', id: 'chaos-sender', word: 'sender', defaultCode: 451 },
  Recipient: { stage: 'rcpt', id: 'chaos-recipient', word: 'recipient', defaultCode: 451 },
  Authentication: { stage: 'auth', id: 'chaos-authentication', word: 'authentication', defaultCode: 535 },
} as const;
type TriggerName = keyof typeof TRIGGERS;

/** Mailpit's spellings of the trigger names on its command line, case-insensitive. */
const NAMES: Record<string, TriggerName> = {
  sender: 'Sender',
  recipient: 'Recipient',
  recipients: 'Recipient',
  auth: 'Authentication',
  authentication: 'Authentication',
};

function checkTrigger(name: string, t: ChaosTrigger): void {
  if (!Number.isInteger(t.ErrorCode) || t.ErrorCode < 400 || t.ErrorCode > 599) throw new RuleError(`${name}: the error code must be from 400 to 599`);
  if (!Number.isInteger(t.Probability) || t.Probability < 0 || t.Probability > 100) throw new RuleError(`${name}: the probability must be a whole number from 0 to 100`);
}

/**
 * MP_CHAOS_TRIGGERS / --chaos-triggers: comma-separated `<trigger>:<code>:<probability>`, e.g.
 * `Sender:451:50,Recipients:550:10`. Triggers not named keep Mailpit's defaults (never firing).
 */
export function parseChaosTriggers(text: string): ChaosTriggers {
  const triggers = defaultTriggers();
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z]+):(\d{3}):(\d{1,3})$/.exec(item);
    const name = m ? NAMES[m[1]!.toLowerCase()] : undefined;
    if (!m) throw new RuleError(`"${item}": a chaos trigger is <trigger>:<error code>:<probability>, e.g. Sender:451:50`);
    if (!name) throw new RuleError(`"${item}": the trigger is Sender, Recipient or Authentication`);
    const trigger = { ErrorCode: Number(m[2]), Probability: Number(m[3]) };
    checkTrigger(name, trigger);
    triggers[name] = trigger;
  }
  return triggers;
}

/** Sets the three triggers (a missing one, or a missing or 0 code, takes Mailpit's default). */
export function setChaosTriggers(rules: FaultRules, input: Partial<Record<TriggerName, Partial<ChaosTrigger>>>): ChaosTriggers {
  const triggers = defaultTriggers();
  for (const name of Object.keys(TRIGGERS) as TriggerName[]) {
    const given = input[name];
    const trigger = { ErrorCode: given?.ErrorCode || TRIGGERS[name].defaultCode, Probability: given?.Probability ?? 0 };
    checkTrigger(name, trigger);
    triggers[name] = trigger;
  }
  const list: RuleInput[] = [];
  for (const name of Object.keys(TRIGGERS) as TriggerName[]) {
    const { stage, id, word } = TRIGGERS[name];
    const { ErrorCode, Probability } = triggers[name];
    // A trigger at 0 % is kept (disabled) so that reading the triggers back gives its code.
    list.push({ id, stage, reply: { code: ErrorCode, text: `Chaos ${word} error` }, probability: Probability / 100, enabled: Probability > 0, comment: `Mailpit chaos trigger ${name}` });
  }
  rules.replaceGroup(CHAOS_PREFIX, list, 'chaos');
  return triggers;
}

/** The triggers as Mailpit's API shows them, read from the chaos rules (defaults when none). */
export function chaosTriggers(rules: FaultRules): ChaosTriggers {
  const triggers = defaultTriggers();
  const byId = new Map<string, RuleView>(rules.list().map((r) => [r.id, r]));
  for (const name of Object.keys(TRIGGERS) as TriggerName[]) {
    const rule = byId.get(TRIGGERS[name].id);
    if (!rule?.reply) continue;
    triggers[name] = { ErrorCode: rule.reply.code, Probability: rule.enabled ? Math.round((rule.probability ?? 1) * 100) : 0 };
  }
  return triggers;
}

function defaultTriggers(): ChaosTriggers {
  return {
    Sender: { ErrorCode: TRIGGERS.Sender.defaultCode, Probability: 0 },
    Recipient: { ErrorCode: TRIGGERS.Recipient.defaultCode, Probability: 0 },
    Authentication: { ErrorCode: TRIGGERS.Authentication.defaultCode, Probability: 0 },
  };
}
