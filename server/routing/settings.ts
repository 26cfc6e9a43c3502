// The routing settings: what MAILPEN_ROUTING, MAILPEN_ROUTING_DOMAIN, MAILPEN_ROUTING_RULES and
// PUT /api/routing accept, checked in one place so that a rule set the API refuses is refused at
// start too (config: exit 2 with the reason; API: 400, the routing in force unchanged).
// What the modes mean is in router.ts.
import { parseQuery, QueryError } from '../search/query.js';
import { inboxNameProblem } from '../store/inbox-name.js';

export const ROUTING_MODES = ['auth', 'subaddress', 'domain', 'rules'] as const;
export type RoutingMode = (typeof ROUTING_MODES)[number];

export interface RoutingRule {
  /** A query in the search language, matched against the message as it arrives. */
  query: string;
  /** Where a message it matches goes. */
  inbox: string;
}

export interface RoutingSettings {
  /** Tried in this order; the first that names an inbox decides. */
  modes: RoutingMode[];
  /** The suffix of the domain mode: alice@run42.<domain> lands in run42. */
  domain: string;
  rules: RoutingRule[];
}

/** As today: the AUTH user, else `default`. */
export const DEFAULT_ROUTING: Readonly<RoutingSettings> = Object.freeze({ modes: ['auth' as RoutingMode], domain: 'inbox.test', rules: [] });

/**
 * Every rule is evaluated on every message, each up to MAX_QUERY_TERMS terms: the count bounds
 * what one message costs at DATA. Tenants of a shared test environment are a handful.
 */
export const MAX_RULES = 100;
/** A domain name is at most 253 characters; the suffix leaves room for an inbox label before it. */
const MAX_DOMAIN_SUFFIX = 200;
const DOMAIN_SUFFIX = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;

/** A routing setting that cannot work, with the reason (config: exit 2; API: 400). */
export class RoutingError extends Error {}

/** Checks and normalizes settings; throws RoutingError with what to fix. */
export function checkRouting(settings: RoutingSettings): RoutingSettings {
  const { modes, rules } = settings;
  if (modes.length === 0) throw new RoutingError(`name at least one mode: ${ROUTING_MODES.join(', ')}`);
  const seen = new Set<string>();
  for (const mode of modes) {
    if (!(ROUTING_MODES as readonly string[]).includes(mode)) throw new RoutingError(`unknown mode ${JSON.stringify(mode)}; modes are ${ROUTING_MODES.join(', ')}`);
    if (seen.has(mode)) throw new RoutingError(`mode ${mode} is listed twice`);
    seen.add(mode);
  }
  const domain = settings.domain.trim().toLowerCase().replace(/^\./, '');
  if (domain.length > MAX_DOMAIN_SUFFIX || !DOMAIN_SUFFIX.test(domain)) {
    throw new RoutingError(`the domain suffix ${JSON.stringify(settings.domain.slice(0, 60))} is not a domain name such as inbox.test (letters, digits, dashes and dots, at most ${MAX_DOMAIN_SUFFIX} characters)`);
  }
  if (rules.length > MAX_RULES) throw new RoutingError(`${rules.length} rules; at most ${MAX_RULES} are allowed`);
  rules.forEach((rule, i) => {
    const which = `rule ${i + 1}`;
    const problem = inboxNameProblem(rule.inbox);
    if (problem !== null) throw new RoutingError(`${which}: ${problem}`);
    let kind: string;
    try {
      kind = parseQuery(rule.query).kind;
    } catch (e) {
      if (e instanceof QueryError) throw new RoutingError(`${which} (inbox ${rule.inbox}): the query does not parse: ${e.message}`);
      throw e;
    }
    // An empty query matches every message: a catch-all is what the modes after rules, or default, are for.
    if (kind === 'all') throw new RoutingError(`${which} (inbox ${rule.inbox}): the query is empty and would match every message`);
  });
  if (rules.length > 0 && !seen.has('rules')) {
    throw new RoutingError(`rules are given but the modes (${modes.join(',')}) do not include rules, so none would be used; add rules to the modes`);
  }
  return { modes: [...modes], domain, rules: rules.map((r) => ({ query: r.query, inbox: r.inbox })) };
}

/** Parses MAILPEN_ROUTING_RULES: a JSON array of { "inbox": ..., "query": ... }. */
export function parseRules(value: string): RoutingRule[] {
  if (value.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new RoutingError('a JSON array of {"inbox": "tenant-a", "query": "to:@tenant-a.example"}');
  }
  if (!Array.isArray(parsed)) throw new RoutingError('a JSON array of {"inbox": ..., "query": ...} rules');
  return parsed.map((r: unknown, i) => {
    const rule = r as Partial<RoutingRule> | null;
    if (typeof rule !== 'object' || rule === null || typeof rule.inbox !== 'string' || typeof rule.query !== 'string' || Object.keys(rule).length !== 2) {
      throw new RoutingError(`rule ${i + 1} is not {"inbox": "<name>", "query": "<search>"}`);
    }
    return { inbox: rule.inbox, query: rule.query };
  });
}

/** Parses MAILPEN_ROUTING: modes separated by commas. */
export function parseModes(value: string): RoutingMode[] {
  return value
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean) as RoutingMode[];
}
