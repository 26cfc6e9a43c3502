// Which web pages may call the API or open the event stream. A browser lets any page open a WebSocket to any
// host and only says who is asking in the Origin header; without this check any site a developer
// visits could read their captured mail live (cross-site WebSocket hijacking, Mailpit's
// CVE-2026-22689). Non-browser clients send no Origin and are let through: they are not
// driven by a third-party page.
import type { IncomingHttpHeaders } from 'node:http';

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
  return isConfiguredOrigin(origin, allowed) || isOwnOrigin(origin, host);
}

/** Whether an Origin header names the server the request was sent to (the UI's own pages). */
export function isOwnOrigin(origin: string, host: string | undefined): boolean {
  const asked = normalizeOrigin(origin);
  if (asked === null || host === undefined || host === '') return false;
  // Behind a TLS proxy the scheme we see differs from the browser's: compare host and port only.
  return normalizeOrigin(`${new URL(asked).protocol}//${host}`) === asked;
}

/** Whether an Origin header is one of MAILPEN_ALLOWED_ORIGINS. */
export function isConfiguredOrigin(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined || allowed.length === 0) return false;
  const o = normalizeOrigin(origin);
  return o !== null && allowed.includes(o);
}

/** One header's value; the first when a client repeated it. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
