// Which inbox (or inboxes) a message lands in. Today's way is the SMTP AUTH user; most
// applications under test, though, send every test's mail with one SMTP account (or none), and
// what differs per test is the recipient: `alice+run42@example.test`, `alice@run42.inbox.test`.
// So the routing is an ordered list of modes, tried in turn; the first that names at least one
// inbox decides, and a message none of them places lands in `default`:
//   auth        the SMTP AUTH user (the provider APIs' key plays this part there)
//   subaddress  the tag after "+" in each recipient's local part: alice+run42@x -> run42
//   domain      the labels before a suffix in each recipient's domain: alice@run42.inbox.test -> run42
//   rules       every rule whose query (the search language) matches the message names its inbox
// Recipient modes look at RCPT TO, which holds Bcc recipients too. A message whose recipients name
// several inboxes is stored once per inbox (see the README, "Inboxes by recipient", for why).
import { compileSearch, type MessagePredicate, type SearchSource } from '../search/match.js';
import { DEFAULT_INBOX, inboxNameProblem } from '../store/inbox-name.js';
import type { Envelope } from '../store/types.js';
import type { MessageStore, SearchFields, StoredMessage } from '../store/store.js';
import { fillSearchFields } from '../store/memory-store.js';
import { summarizeHeaders, type HeaderSummary } from '../mail/summary.js';
import { readHeaderBlock } from '../mail/headers.js';
import { scanBody, type BodyScan } from '../mail/scan.js';
import { checkRouting, DEFAULT_ROUTING, type RoutingSettings } from './settings.js';

export * from './settings.js';

/**
 * A message not stored yet, as the search sees one: what rules match against. It reads the
 * headers (and the body, only if a rule asks for it) once, as the store would later.
 */
class Arriving implements StoredMessage {
  readonly id = '';
  readonly read = false;
  /** Tags are the store's to read (and the API's to set), once the message is stored. */
  readonly tags: readonly string[] = [];
  readonly receivedAt = Date.now();
  get size(): number {
    return this.raw.length;
  }
  #headers: HeaderSummary | null = null;
  #fields: SearchFields | null = null;
  #body: BodyScan | null = null;
  constructor(
    readonly raw: Buffer,
    readonly envelope: Envelope,
    /** The inbox the AUTH user names (or default): what `inbox:` in a rule sees. */
    readonly inbox: string,
    readonly seq: number,
  ) {}

  get headers(): HeaderSummary {
    return (this.#headers ??= summarizeHeaders(this.raw, readHeaderBlock(this.raw)));
  }

  get fields(): SearchFields {
    if (this.#fields === null) {
      this.#fields = { from: '', to: '', cc: '', subject: '', messageId: '' };
      fillSearchFields(this.#fields, this.headers, this.envelope);
    }
    return this.#fields;
  }

  get body(): BodyScan {
    return (this.#body ??= scanBody(this.raw));
  }
}

/** The search's view of arriving messages: fields and body from the message itself, no index. */
const arrivingSource: SearchSource = {
  searchFields: (m) => arriving(m).fields,
  body: (m) => arriving(m).body,
  bodyCandidates: () => null,
};

function arriving(m: StoredMessage): Arriving {
  if (m instanceof Arriving) return m;
  throw new Error('routing rules are evaluated on arriving messages only');
}

interface Compiled {
  settings: Readonly<RoutingSettings>;
  rules: Array<{ inbox: string; matches: MessagePredicate }>;
}

/** What the router needs of a message: its bytes and its envelope (AUTH user, RCPT TO). */
export interface RoutedMessage {
  raw: Buffer;
  envelope: Envelope;
}

/**
 * The routing in force, shared by the SMTP edge (which asks where each message goes) and the
 * API (which reads and replaces it). Replaced whole, so a message is routed by one rule set.
 */
export class Router {
  #current: Compiled;
  readonly #changeListeners = new Set<(settings: Readonly<RoutingSettings>) => void>();

  constructor(
    private readonly store: Pick<MessageStore, 'nextSeq'>,
    settings: RoutingSettings = DEFAULT_ROUTING,
  ) {
    this.#current = compileRouting(settings);
  }

  get settings(): Readonly<RoutingSettings> {
    return this.#current.settings;
  }

  /**
   * Replaces the routing; throws RoutingError (and keeps the one in force) when it cannot work, or
   * whatever a change listener throws (Redis cannot take it: StoreUnavailableError, a 503).
   */
  replace(settings: RoutingSettings): Readonly<RoutingSettings> {
    const next = compileRouting(settings);
    for (const listener of this.#changeListeners) listener(next.settings);
    this.#current = next;
    return this.#current.settings;
  }

  /** Takes the routing another replica set (shared through Redis), without telling the change listeners. */
  adopt(settings: RoutingSettings): void {
    this.#current = compileRouting(settings);
  }

  /** Listens for changes made here (server/main.ts shares them); answers the unsubscribe. */
  onChange(listener: (settings: Readonly<RoutingSettings>) => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  /** The inboxes a message goes to, in the order found, without repeats; never empty. */
  route(message: RoutedMessage): string[] {
    const { settings, rules } = this.#current;
    const authInbox = message.envelope.authUser ?? DEFAULT_INBOX;
    for (const mode of settings.modes) {
      let found: string[] = [];
      switch (mode) {
        case 'auth':
          if (message.envelope.authUser !== null) found = [message.envelope.authUser];
          break;
        case 'subaddress':
          found = message.envelope.rcptTo.map(subaddressInbox);
          break;
        case 'domain':
          found = message.envelope.rcptTo.map((r) => domainInbox(r, settings.domain));
          break;
        case 'rules': {
          if (rules.length === 0) break;
          const arriving = new Arriving(message.raw, message.envelope, authInbox, this.store.nextSeq());
          found = rules.filter((r) => r.matches(arriving)).map((r) => r.inbox);
          break;
        }
      }
      const inboxes = [...new Set(found.filter((name) => name !== ''))];
      if (inboxes.length > 0) return inboxes;
    }
    return [DEFAULT_INBOX];
  }
}

function compileRouting(settings: RoutingSettings): Compiled {
  const checked = Object.freeze(checkRouting(settings));
  return {
    settings: checked,
    rules: checked.rules.map((r) => ({ inbox: r.inbox, matches: compileSearch(r.query, arrivingSource) })),
  };
}

/** The local part and the domain of an address as RCPT TO gave it (the last "@" splits them). */
function splitAddress(address: string): [string, string] {
  const at = address.lastIndexOf('@');
  return at < 0 ? [address, ''] : [address.slice(0, at), address.slice(at + 1)];
}

/**
 * alice+run42@example.test -> run42; '' when there is no tag or it cannot be an inbox name
 * (an inbox name holds letters, digits and . _ @ + = ~ : -), so the next mode decides.
 */
export function subaddressInbox(address: string): string {
  const [local] = splitAddress(address);
  const plus = local.indexOf('+');
  if (plus < 0) return '';
  const tag = local.slice(plus + 1);
  return inboxNameProblem(tag) === null ? tag : '';
}

/**
 * alice@run42.inbox.test -> run42 with suffix inbox.test. Lower-cased: domains are
 * case-insensitive and applications often lower-case the addresses they are given.
 */
export function domainInbox(address: string, suffix: string): string {
  const domain = splitAddress(address)[1].toLowerCase();
  if (!domain.endsWith(`.${suffix}`)) return '';
  const label = domain.slice(0, domain.length - suffix.length - 1);
  return inboxNameProblem(label) === null ? label : '';
}
