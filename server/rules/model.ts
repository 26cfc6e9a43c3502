// What a fault rule is, on the wire and in a rules file: one TypeBox schema for both, and one
// validation (shape, then meaning) so a rule the API refuses is refused by the file too.
// A rule has a stage, a match in the search language, counters, and an action: a reply (4xx/5xx
// with an enhanced status code and text), a delay, a disconnect, or ready-made greylisting.
// There is no accept-and-discard action on purpose: a 250 from Mailpen always means stored.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseQuery, QueryError, type Query } from '../search/query.js';
import { inboxNameProblem } from '../store/inbox-name.js';

export const STAGES = ['connect', 'ehlo', 'auth', 'mail', 'rcpt', 'data'] as const;
export type Stage = (typeof STAGES)[number];

/** A delay past this is a hung server, which a test can get with disconnect instead. */
export const MAX_DELAY_MS = 120_000;
/** A rule set larger than this is a mistake: every SMTP command walks it. */
export const MAX_RULES = 200;
/** Greylisting forgets a (client, from, to) triple this long after its first attempt, unless told otherwise. */
export const DEFAULT_GREYLIST_WINDOW_MS = 60 * 60_000;
const MAX_TEXT = 512;

export class RuleError extends Error {}

export const RuleReplySchema = Type.Object(
  {
    code: Type.Integer({ minimum: 400, maximum: 599, description: 'the reply code, 4xx (try again) or 5xx (give up)' }),
    enhanced: Type.Optional(Type.String({ pattern: '^[45]\\.\\d{1,3}\\.\\d{1,3}$', description: 'RFC 3463 enhanced status code, e.g. 5.2.2; its class must be the code\'s' })),
    text: Type.Optional(Type.String({ maxLength: MAX_TEXT, description: 'the reply text' })),
  },
  { additionalProperties: false },
);

export const RuleInputSchema = Type.Object(
  {
    id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'kept when given (unique); made up otherwise' })),
    stage: Type.Union(STAGES.map((s) => Type.Literal(s)), { description: 'where the rule acts: connect, ehlo, auth, mail, rcpt, data (after the message is received, before the reply)' }),
    match: Type.Optional(Type.String({ maxLength: 2000, description: 'search-language terms the stage can know (to:, from:, inbox:; any field at data); empty: every time' })),
    inbox: Type.Optional(Type.String({ description: 'only this inbox (the SMTP AUTH user; default for none)' })),
    reply: Type.Optional(RuleReplySchema),
    delay: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_DELAY_MS, description: 'milliseconds to wait before the answer (the normal one, or reply/disconnect)' })),
    disconnect: Type.Optional(Type.Literal(true, { description: 'close the connection without a reply' })),
    greylist: Type.Optional(
      Type.Object(
        { window: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 60 * 60_000, description: 'milliseconds a triple stays known after its first attempt (1 h)' })) },
        { additionalProperties: false, description: 'at rcpt: 451 4.7.1 to the first attempt of each (client, from, to), then accept' },
      ),
    ),
    times: Type.Optional(Type.Integer({ minimum: 1, description: 'fire at most this many times, then stop' })),
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'skip the first N matches' })),
    every: Type.Optional(Type.Integer({ minimum: 1, description: 'fire on every Nth match (after the skipped ones)' })),
    probability: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'fire with this chance per match (Mailpit\'s chaos); deterministic when absent' })),
    enabled: Type.Optional(Type.Boolean({ description: 'false: kept, not evaluated (true)' })),
    comment: Type.Optional(Type.String({ maxLength: MAX_TEXT })),
  },
  { additionalProperties: false },
);
export type RuleInput = Static<typeof RuleInputSchema>;

export const RuleSchema = Type.Object({
  id: Type.String(),
  stage: Type.Union(STAGES.map((s) => Type.Literal(s))),
  match: Type.String(),
  inbox: Type.Optional(Type.String()),
  reply: Type.Optional(RuleReplySchema),
  delay: Type.Optional(Type.Integer()),
  disconnect: Type.Optional(Type.Literal(true)),
  greylist: Type.Optional(Type.Object({ window: Type.Integer() })),
  times: Type.Optional(Type.Integer()),
  after: Type.Optional(Type.Integer()),
  every: Type.Optional(Type.Integer()),
  probability: Type.Optional(Type.Number()),
  enabled: Type.Boolean(),
  comment: Type.Optional(Type.String()),
  hits: Type.Integer({ description: 'times the rule fired' }),
  matched: Type.Integer({ description: 'times its match and scope held (fired or not)' }),
});
export type RuleView = Static<typeof RuleSchema>;

/** A validated rule: its input with defaults filled in, and its match parsed. */
export interface RuleSpec {
  id: string | null;
  stage: Stage;
  match: string;
  query: Query;
  inbox: string | null;
  reply: { code: number; enhanced: string | null; text: string } | null;
  delay: number;
  disconnect: boolean;
  greylist: { window: number } | null;
  times: number | null;
  after: number;
  every: number;
  probability: number | null;
  enabled: boolean;
  comment: string | null;
}

/**
 * What each stage knows of the transaction, in the search language's terms. Before AUTH nothing
 * names the inbox; free text, subject, headers, attachments and size exist only once DATA is in.
 */
const KNOWN_AT: Record<Stage, ReadonlySet<string>> = {
  connect: new Set(),
  ehlo: new Set(),
  auth: new Set(['inbox']),
  mail: new Set(['inbox', 'from']),
  rcpt: new Set(['inbox', 'from', 'to']),
  data: new Set(['inbox', 'from', 'to', 'cc', 'subject', 'text', 'header', 'has', 'larger', 'smaller']),
};

const WHY_UNKNOWN: Record<string, string> = {
  via: 'via: names a provider API, and rules act on SMTP only',
  is: 'is:read and is:unread describe stored mail, not a transaction',
  before: 'before: and after: describe stored mail, not a transaction',
  after: 'before: and after: describe stored mail, not a transaction',
};

/** The search field a query term reads, for the stage check. */
function fieldsOf(query: Query, out: Set<string>): Set<string> {
  switch (query.kind) {
    case 'all':
      break;
    case 'text':
      out.add('text');
      break;
    case 'field':
      out.add(query.field);
      break;
    case 'header':
      out.add('header');
      break;
    case 'attachment':
      out.add('has');
      break;
    case 'read':
      out.add('is');
      break;
    case 'time':
      out.add(query.op);
      break;
    case 'size':
      out.add(query.op);
      break;
    case 'not':
      fieldsOf(query.query, out);
      break;
    case 'and':
    case 'or':
      for (const q of query.queries) fieldsOf(q, out);
      break;
  }
  return out;
}

/** Checks one rule's shape and meaning; the reason names the field. */
export function validateRule(input: unknown, where = 'rule'): RuleSpec {
  if (!Value.Check(RuleInputSchema, input)) {
    const first = [...Value.Errors(RuleInputSchema, input)][0];
    const path = first?.path ? first.path.replace(/^\//, '').replace(/\//g, '.') : '';
    throw new RuleError(`${where}${path ? `.${path}` : ''}: ${first?.message ?? 'is not a rule'}${enumHint(path)}`);
  }
  const r = input;
  const fail = (why: string): never => {
    throw new RuleError(`${where}: ${why}`);
  };
  let query: Query;
  try {
    query = parseQuery(r.match ?? '');
  } catch (err) {
    if (err instanceof QueryError) fail(`match "${r.match}" does not parse: ${err.message}`);
    throw err;
  }
  for (const field of fieldsOf(query, new Set())) {
    if (KNOWN_AT[r.stage].has(field)) continue;
    const term = field === 'text' ? 'free text' : `${field}:`;
    fail(WHY_UNKNOWN[field] ?? `${term} is not known at ${r.stage} (${knownList(r.stage)})`);
  }
  if (r.inbox !== undefined) {
    if (!KNOWN_AT[r.stage].has('inbox')) fail(`inbox is not known at ${r.stage}: the inbox is the AUTH user, known from auth on`);
    const problem = inboxNameProblem(r.inbox);
    if (problem !== null) fail(`inbox: ${problem}`);
  }
  const actions = [r.reply && 'reply', r.disconnect && 'disconnect', r.greylist && 'greylist'].filter(Boolean);
  if (actions.length > 1) fail(`one action at a time: ${actions.join(' and ')} were both given (delay goes with either of reply and disconnect)`);
  if (actions.length === 0 && r.delay === undefined) fail('needs an action: reply, delay, disconnect or greylist');
  if (r.greylist && r.stage !== 'rcpt') fail('greylist acts at rcpt, where the (client, from, to) triple is known');
  if (r.greylist && r.delay !== undefined) fail('greylist takes no delay');
  if (r.reply) {
    const cls = String(r.reply.code)[0];
    if (r.reply.enhanced !== undefined && r.reply.enhanced[0] !== cls) fail(`reply.enhanced ${r.reply.enhanced} is not in the class of ${r.reply.code} (${cls}.x.x)`);
    if (/[\r\n]/.test(r.reply.text ?? '')) fail('reply.text must be one line');
  }
  return {
    id: r.id ?? null,
    stage: r.stage,
    match: r.match ?? '',
    query,
    inbox: r.inbox ?? null,
    reply: r.reply ? { code: r.reply.code, enhanced: r.reply.enhanced ?? null, text: r.reply.text ?? defaultText(r.reply.code) } : null,
    delay: r.delay ?? 0,
    disconnect: r.disconnect === true,
    greylist: r.greylist ? { window: r.greylist.window ?? DEFAULT_GREYLIST_WINDOW_MS } : null,
    times: r.times ?? null,
    after: r.after ?? 0,
    every: r.every ?? 1,
    probability: r.probability ?? null,
    enabled: r.enabled ?? true,
    comment: r.comment ?? null,
  };
}

/** A whole rule set (PUT, a rules file): every rule valid and ids unique, or nothing. */
export function validateRules(input: unknown, where = 'rules'): RuleSpec[] {
  if (!Array.isArray(input)) throw new RuleError(`${where}: expected a JSON array of rules`);
  if (input.length > MAX_RULES) throw new RuleError(`${where}: ${input.length} rules; at most ${MAX_RULES}`);
  const specs = input.map((r, i) => validateRule(r, `${where}[${i}]`));
  const ids = new Set<string>();
  for (const [i, s] of specs.entries()) {
    if (s.id === null) continue;
    if (ids.has(s.id)) throw new RuleError(`${where}[${i}]: id "${s.id}" is used twice`);
    ids.add(s.id);
  }
  return specs;
}

function knownList(stage: Stage): string {
  const known = [...KNOWN_AT[stage]].map((f) => (f === 'text' ? 'free text' : `${f}:`));
  return known.length === 0 ? 'nothing can be matched there: leave match empty' : `known there: ${known.join(', ')}`;
}

function enumHint(path: string): string {
  return path === 'stage' ? ` (${STAGES.join(', ')})` : '';
}

function defaultText(code: number): string {
  return code < 500 ? 'Temporary failure (Mailpen fault rule)' : 'Refused (Mailpen fault rule)';
}
