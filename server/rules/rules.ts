// The fault rule set: ordered, first match wins, each rule with its counters. SMTP asks it at
// every stage (server/rules/smtp.ts); the API and the Mailpit compatibility layer change it
// through list/replace/append/update/remove/clear, which validate as one (a refused change
// leaves the set as it was). It knows nothing of sockets: it answers what to do, and says
// what fired to whoever subscribes (the log, /metrics, the event stream).
import { compileMatch, MessageView, type ContextPredicate, type RuleContext } from './match.js';
import { RuleError, MAX_RULES, validateRule, validateRules, type RuleInput, type RuleSpec, type RuleView, type Stage } from './model.js';

/** Triples a greylisting rule remembers; past it the oldest are forgotten (they get a 451 again). */
const MAX_GREYLIST_ENTRIES = 10_000;

/** The greylisting answer: RFC 6647 leaves the text free; 4.7.1 is what Postgrey and most others send. */
const GREYLIST_REPLY = { code: 451, enhanced: '4.7.1', text: 'Greylisted: try again later (Mailpen fault rule)' };

/** What SMTP does when a rule fires: wait `delay` ms, then reply, close, or go on as normal. */
export interface Decision {
  rule: string;
  delay: number;
  then: { kind: 'reply'; code: number; enhanced: string | null; text: string } | { kind: 'disconnect' } | { kind: 'proceed' };
}

/** One firing, as the log, the metrics and the event stream see it. */
export interface FiredRule {
  rule: string;
  stage: Stage;
  action: 'reply' | 'delay' | 'disconnect' | 'greylist';
  /** The reply code sent, null for a delay alone or a disconnect. */
  code: number | null;
  inbox: string | null;
  remoteAddress: string;
  mailFrom: string | null;
  rcptTo: readonly string[];
  /** The rule's hit count after this one. */
  hits: number;
}

export type FiredListener = (fired: FiredRule) => void;

/** Told of each change to the set before it takes effect, with the whole new set; one that throws stops it. */
export type ChangeListener = (rules: RuleInput[]) => void;

interface Rule {
  id: string;
  spec: RuleSpec;
  predicate: ContextPredicate;
  hits: number;
  matched: number;
  /** Greylisting: first attempt of each triple, oldest first. */
  seen: Map<string, number> | null;
}

export interface FaultRulesOptions {
  /**
   * The SMTP idle timeout: a delay that long would have the session cut (421) before the rule's
   * answer, so rules are refused that ask for it.
   */
  idleTimeout?: number;
  /** For `probability`; Math.random by default. */
  random?: () => number;
  now?: () => number;
}

export class FaultRules {
  #rules: Rule[] = [];
  #nextId = 1;
  #fired = 0;
  readonly #listeners = new Set<FiredListener>();
  readonly #changeListeners = new Set<ChangeListener>();
  readonly #idleTimeout: number;
  readonly #random: () => number;
  readonly #now: () => number;

  constructor(options: FaultRulesOptions = {}) {
    this.#idleTimeout = options.idleTimeout ?? 0;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  /** Every rule in evaluation order, with its counters. */
  list(): RuleView[] {
    return this.#rules.map(view);
  }

  get(id: string): RuleView | null {
    const rule = this.#rules.find((r) => r.id === id);
    return rule ? view(rule) : null;
  }

  /** Rules fired since start, over every rule set. */
  get fired(): number {
    return this.#fired;
  }

  get size(): number {
    return this.#rules.length;
  }

  /** For /api/info: how many rules, how many of them on, and how many times any fired. */
  get stats(): { rules: number; enabled: number; fired: number } {
    return { rules: this.#rules.length, enabled: this.#rules.filter((r) => r.spec.enabled).length, fired: this.#fired };
  }

  /** Replaces the whole set (counters start at 0); throws RuleError and changes nothing if any rule is bad. */
  replace(input: unknown, where = 'rules'): RuleView[] {
    const specs = validateRules(input, where);
    for (const s of specs) this.#checkDelay(s, where);
    this.#commit(this.#build(specs));
    return this.list();
  }

  /** A whole set of rules: the ones without an id get one that none of the set names. */
  #build(specs: RuleSpec[]): Rule[] {
    const taken = new Set(specs.map((x) => x.id).filter((id): id is string => id !== null));
    return specs.map((s) => this.#make(s, taken));
  }

  /**
   * Takes the set another replica made (server/main.ts shares it through Redis): validated as
   * replace() does, without telling the change listeners (it came from one). A rule whose id and
   * definition are unchanged keeps its counters and greylisting memory, which stay per replica.
   */
  adopt(input: unknown): void {
    const specs = validateRules(input, 'shared rules');
    const before = new Map(this.#rules.map((r) => [r.id, r]));
    this.#rules = this.#build(specs).map((rule) => {
      const same = before.get(rule.id);
      return same && JSON.stringify(inputOf(same)) === JSON.stringify(inputOf(rule)) ? same : rule;
    });
  }

  /** Listens for changes made here (not adopted ones); answers the unsubscribe. */
  onChange(listener: ChangeListener): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  /** The set becomes `next`, once every change listener has taken it. */
  #commit(next: Rule[]): void {
    if (this.#changeListeners.size > 0) {
      const inputs = next.map(inputOf);
      for (const listener of this.#changeListeners) listener(inputs);
    }
    this.#rules = next;
  }

  /** Adds one rule at the end. */
  append(input: unknown): RuleView {
    const spec = validateRule(input);
    this.#checkDelay(spec, 'rule');
    if (this.#rules.length >= MAX_RULES) throw new RuleError(`there are ${MAX_RULES} rules already; delete some first`);
    if (spec.id !== null && this.#rules.some((r) => r.id === spec.id)) throw new RuleError(`rule: id "${spec.id}" is in use`);
    const rule = this.#make(spec, new Set(this.#rules.map((r) => r.id)));
    this.#commit([...this.#rules, rule]);
    return view(rule);
  }

  /**
   * Replaces the rules whose id starts with `prefix` (a group another part of Mailpen owns, such
   * as Mailpit's chaos triggers) by `input`, appended at the end; the other rules and their
   * counters stay. Every new id must start with the prefix. All or nothing, like replace().
   */
  replaceGroup(prefix: string, input: unknown, where = 'rules'): RuleView[] {
    const specs = validateRules(input, where);
    for (const [i, s] of specs.entries()) {
      this.#checkDelay(s, where);
      if (s.id === null || !s.id.startsWith(prefix)) throw new RuleError(`${where}[${i}]: the id must start with "${prefix}"`);
    }
    const kept = this.#rules.filter((r) => !r.id.startsWith(prefix));
    if (kept.length + specs.length > MAX_RULES) throw new RuleError(`${where}: at most ${MAX_RULES} rules in all`);
    const taken = new Set(kept.map((r) => r.id));
    for (const s of specs) if (taken.has(s.id!)) throw new RuleError(`${where}: id "${s.id}" is in use`);
    this.#commit([...kept, ...specs.map((s) => this.#make(s, taken))]);
    return this.list();
  }

  /** Switches a rule on or off (its counters stay); null when there is no such rule. */
  setEnabled(id: string, enabled: boolean): RuleView | null {
    const rule = this.#rules.find((r) => r.id === id);
    if (!rule) return null;
    // A new object with the same counters, so a listener that refuses the change leaves this one as it was.
    const changed: Rule = { ...rule, spec: { ...rule.spec, enabled } };
    this.#commit(this.#rules.map((r) => (r === rule ? changed : r)));
    return view(changed);
  }

  remove(id: string): boolean {
    if (!this.#rules.some((r) => r.id === id)) return false;
    this.#commit(this.#rules.filter((r) => r.id !== id));
    return true;
  }

  /** Deletes every rule; answers how many there were. */
  clear(): number {
    const n = this.#rules.length;
    this.#commit([]);
    return n;
  }

  subscribe(listener: FiredListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Whether any enabled rule acts at this stage: without one, SMTP skips building a context. */
  active(stage: Stage): boolean {
    return this.#rules.some((r) => r.spec.enabled && r.spec.stage === stage);
  }

  /**
   * The first rule at this stage whose scope, match and counters hold, counted as a hit; null
   * when none fires. A rule that matches but whose counters say no (times used up, skipped by
   * after or every, probability) lets the next rule be tried, as if it had not matched.
   */
  evaluate(stage: Stage, ctx: RuleContext): Decision | null {
    const message = new MessageView(ctx.raw);
    for (const rule of this.#rules) {
      const s = rule.spec;
      if (!s.enabled || s.stage !== stage) continue;
      if (s.inbox !== null && !ctx.inboxes().includes(s.inbox)) continue;
      if (!rule.predicate(ctx, message)) continue;
      rule.matched++;
      const n = rule.matched - s.after;
      if (n <= 0 || (n - 1) % s.every !== 0) continue;
      if (s.times !== null && rule.hits >= s.times) continue;
      if (s.probability !== null && this.#random() >= s.probability) continue;
      if (rule.seen !== null && !this.#firstAttempt(rule, ctx)) continue;
      rule.hits++;
      this.#fired++;
      const decision = decide(rule);
      const fired: FiredRule = {
        rule: rule.id,
        stage,
        action: s.greylist ? 'greylist' : s.disconnect ? 'disconnect' : s.reply ? 'reply' : 'delay',
        code: decision.then.kind === 'reply' ? decision.then.code : null,
        inbox: ctx.inboxes()[0] ?? null,
        remoteAddress: ctx.remoteAddress,
        mailFrom: ctx.mailFrom,
        rcptTo: ctx.rcptTo,
        hits: rule.hits,
      };
      for (const listener of this.#listeners) listener(fired);
      return decision;
    }
    return null;
  }

  /** Greylisting: true for the first attempt of a triple within the window (it gets the 451). */
  #firstAttempt(rule: Rule, ctx: RuleContext): boolean {
    const seen = rule.seen!;
    const window = rule.spec.greylist!.window;
    const now = this.#now();
    // Addresses compare case-insensitively: a client may retry with other capitals.
    const key = [ctx.remoteAddress, (ctx.mailFrom ?? '').toLowerCase(), (ctx.rcptTo[0] ?? '').toLowerCase()].join('\0');
    const first = seen.get(key);
    if (first !== undefined && now - first < window) return false;
    // Re-inserted so the map stays oldest first, and the oldest go when it is full.
    seen.delete(key);
    seen.set(key, now);
    if (seen.size > MAX_GREYLIST_ENTRIES) seen.delete(seen.keys().next().value!);
    return true;
  }

  #checkDelay(spec: RuleSpec, where: string): void {
    if (this.#idleTimeout > 0 && spec.delay >= this.#idleTimeout) {
      throw new RuleError(
        `${where}: delay ${spec.delay} ms is not below the SMTP idle timeout (MAILPEN_SMTP_IDLE_TIMEOUT, ${this.#idleTimeout} ms): the session would be cut before the answer; use disconnect, or raise the timeout`,
      );
    }
  }

  #make(spec: RuleSpec, taken: ReadonlySet<string>): Rule {
    let id = spec.id;
    while (id === null || (spec.id === null && taken.has(id))) id = `r${this.#nextId++}`;
    return { id, spec, predicate: compileMatch(spec.query), hits: 0, matched: 0, seen: spec.greylist ? new Map() : null };
  }
}

function decide(rule: Rule): Decision {
  const s = rule.spec;
  const reply = s.greylist ? GREYLIST_REPLY : s.reply;
  return {
    rule: rule.id,
    delay: s.delay,
    then: reply ? { kind: 'reply', ...reply } : s.disconnect ? { kind: 'disconnect' } : { kind: 'proceed' },
  };
}

/** A rule as input again (its view without the counters): what is shared between replicas. */
function inputOf(rule: Rule): RuleInput {
  const { hits: _hits, matched: _matched, ...input } = view(rule);
  return input;
}

function view(rule: Rule): RuleView {
  const s = rule.spec;
  return {
    id: rule.id,
    stage: s.stage,
    match: s.match,
    ...(s.inbox !== null && { inbox: s.inbox }),
    ...(s.reply && { reply: { code: s.reply.code, ...(s.reply.enhanced !== null && { enhanced: s.reply.enhanced }), text: s.reply.text } }),
    ...(s.delay > 0 && { delay: s.delay }),
    ...(s.disconnect && { disconnect: true as const }),
    ...(s.greylist && { greylist: { window: s.greylist.window } }),
    ...(s.times !== null && { times: s.times }),
    ...(s.after > 0 && { after: s.after }),
    ...(s.every > 1 && { every: s.every }),
    ...(s.probability !== null && { probability: s.probability }),
    enabled: s.enabled,
    ...(s.comment !== null && { comment: s.comment }),
    hits: rule.hits,
    matched: rule.matched,
  };
}
