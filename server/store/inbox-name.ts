// What an inbox name may be. Inbox names come from outside (an SMTP AUTH user, `?inbox=` on an
// upload, a provider API key, a routing rule) and are repeated in every list item, event and
// counts frame: a 12 KB name times 3,000 inboxes made each counts frame 36 MB. So a name is short,
// printable and safe to carry in a URL query, a header or a log line as it is, and their number
// is bounded (MAILPEN_MAX_INBOXES): together they bound what a counts frame or /api/inboxes carries.
import type { MessageStore } from './store.js';

/** The inbox: where a message lands when nothing chose another. */
export const DEFAULT_INBOX = 'default';

/** Long enough for an e-mail address used as a user name (RFC 5321 caps a path at 256). */
export const MAX_INBOX_NAME_LENGTH = 128;

/** Letters and digits of any script, and the punctuation user names and addresses use. */
const INBOX_NAME = /^[\p{L}\p{N}._@+=~:-]+$/u;

/** Why `name` cannot be an inbox name, for a 4xx/5xx reply; null when it can. */
export function inboxNameProblem(name: string): string | null {
  if (name.length === 0) return 'an inbox name cannot be empty';
  if (name.length > MAX_INBOX_NAME_LENGTH) return `an inbox name is at most ${MAX_INBOX_NAME_LENGTH} characters (this one has ${name.length})`;
  if (!INBOX_NAME.test(name)) return 'an inbox name holds letters, digits and . _ @ + = ~ : - only';
  return null;
}

/** The same rule as a JSON-schema pattern, for route schemas (TypeBox `pattern`). */
export const INBOX_NAME_PATTERN = '^[\\p{L}\\p{N}._@+=~:-]{1,128}$';

/**
 * Why a message cannot go into these inboxes now: a name that cannot be one, or the new ones
 * past `maxInboxes` (0: no limit). Null when it can. Every edge that names inboxes asks this first.
 */
export function inboxesRefusal(inboxes: readonly string[], store: Pick<MessageStore, 'inboxCount' | 'hasInbox'>, maxInboxes: number): string | null {
  for (const name of inboxes) {
    const problem = inboxNameProblem(name);
    if (problem !== null) return problem;
  }
  if (maxInboxes === 0) return null;
  const added = inboxes.filter((name) => !store.hasInbox(name)).length;
  if (added > 0 && store.inboxCount() + added > maxInboxes) {
    return `Mailpen holds ${store.inboxCount()} inboxes and this message would add ${added} past MAILPEN_MAX_INBOXES (${maxInboxes}); delete some or raise the limit`;
  }
  return null;
}

/** The same for one inbox (an upload's, a provider key's). */
export function inboxRefusal(name: string, store: Pick<MessageStore, 'inboxCount' | 'hasInbox'>, maxInboxes: number): string | null {
  return inboxesRefusal([name], store, maxInboxes);
}
