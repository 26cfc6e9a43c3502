// Which web pages may open the event stream. A browser lets any page open a WebSocket to any
// host and only says who is asking in the Origin header; without this check any site a developer
// visits could read their captured mail live (cross-site WebSocket hijacking, Mailpit's
// CVE-2026-22689). Non-browser clients send no Origin and are let through: they are not
// driven by a third-party page.

/** Origins as `scheme://host[:port]`, lower case, default ports dropped, as browsers send them. */
export function normalizeOrigin(value: string): string | null {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.origin;
  } catch {
    return null;
  }
}

/**
 * True when the request may connect: no Origin, an Origin naming the host the request was sent
 * to (the UI's own page), or one of the configured origins. "null" (sandboxed frames, file:)
 * never matches.
 */
export function isAllowedOrigin(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  const asked = normalizeOrigin(origin);
  if (asked === null) return false;
  if (allowed.includes(asked)) return true;
  if (host === undefined || host === '') return false;
  // Same scheme as the origin, so http://h and Host "h:80" compare equal.
  return normalizeOrigin(`${new URL(asked).protocol}//${host}`) === asked;
}
