// The HTTP edge's defences, applied to every request before any route sees it:
//
// 1. Host check (DNS rebinding). A page on evil.example can re-point its own name at 127.0.0.1
//    after loading; the browser then treats our server as evil.example's origin and lets the page
//    read everything. The one thing it cannot forge is the Host header, which still says
//    evil.example: while we listen on loopback, only loopback names, IP literals and configured
//    names are answered.
// 2. Cross-site requests. A form or fetch from another site can fire a POST or DELETE without
//    reading the answer (CSRF: "delete all mail"). Browsers say who is asking in Origin and
//    Sec-Fetch-Site; state changes are refused unless they come from the UI's own origin or a
//    configured one. Cross-site reads that a page could embed (<script src>, <link>, fetch in
//    no-cors mode) are refused the same way, except navigations and images (the sandboxed mail
//    frame has an opaque origin, so its cid: images count as cross-site). Clients that send none
//    of these headers (curl, test suites) are not browsers driven by a third party, and pass.
// 3. CORS: off, unless origins are configured; then those origins may call the API.
// 4. Optional authentication: HTTP Basic users and/or a bearer token; /healthz stays open.
// 5. Security headers on every answer (a CSP with no inline script, nosniff, no referrer,
//    no framing by others), without replacing a CSP a route set for itself.
//
// Each decision is made on the route that matched, never on the URL's text: the router decodes
// percent-encoding, so a check of the raw string let `/%61pi/wait` through as a "page" while the
// router served /api/wait. The event stream's WebSocket upgrade never reaches fastify's hooks;
// server/http/upgrade-gate.ts asks the same questions of it, with the same answers.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import fp from 'fastify-plugin';
import type { FastifyReply } from 'fastify';
import type { Config } from '../config.js';
import type { App, AppDeps } from './app.js';
import { errorBody } from './errors.js';
import { header, isConfiguredOrigin, isOwnOrigin, normalizeOrigin } from './origin.js';
import { isProviderRoute } from './providers/index.js';

export type SecurityConfig = Pick<Config, 'http' | 'allowedHosts' | 'allowedOrigins' | 'uiAuth' | 'apiToken'>;

/** Why a request is refused: the status, a message for a person, and headers to send with it. */
export interface Refusal {
  statusCode: number;
  message: string;
  headers?: Record<string, string>;
}

/**
 * Routes that answer without Mailpen's credentials, by the route that matched: the health check
 * (a container's has none), and the provider APIs, which are mail coming in like SMTP: their SDKs
 * send the provider's own Authorization (a SendGrid or Resend key is a Bearer token too), so
 * MAILPEN_PROVIDER_KEYS guards them.
 */
function isOpenRoute(route: string | undefined): boolean {
  return route === '/healthz' || isProviderRoute(route);
}

/** The one resource other origins may embed: a part, as the sandboxed mail frame shows cid: images. */
const PART_ROUTE = '/api/messages/:id/parts/:partId';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * For the UI and the API. No inline script (the stored-XSS class of MailHog CVE-2022-50908 and
 * MailDev), and scripts only from the UI's build (/assets/) and the API docs page: the server
 * also serves bytes a sender chose (parts whose type a message declares, text/javascript
 * included), and `script-src 'self'` would let any same-origin document load those as script.
 * Inline style stays allowed because Svelte templates carry style attributes and style cannot
 * run code. frame-ancestors 'self' rather than 'none': the UI frames the message HTML endpoint
 * (which sends its own, stricter policy).
 */
export function uiCsp(host: string | undefined, path: string): string {
  return [
    "default-src 'self'",
    `script-src ${scriptSources(host, path)}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "frame-src 'self'",
    "worker-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'self'",
  ].join('; ');
}

/**
 * Path-restricted sources need a host (CSP has no path-only form); without the scheme they keep
 * the page's own. A Host CSP cannot express (IPv6 literals, none at all) falls back to 'self'.
 */
function scriptSources(host: string | undefined, path: string): string {
  if (host === undefined || !/^[a-z0-9.-]+(:\d{1,5})?$/i.test(host)) return "'self'";
  return path.startsWith('/api/docs') ? `${host}/assets/ ${host}/api/docs/` : `${host}/assets/`;
}

/** True when `host` (an address to listen on) only accepts connections from this machine. */
export function isLoopbackBind(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * The host name of a Host header, lower case, without port, brackets or a trailing dot; null
 * when the header is not a host[:port] at all (so it matches nothing).
 */
export function hostName(header: string): string | null {
  const m = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9._-]+))(?::\d{1,5})?$/.exec(header.trim().toLowerCase());
  if (!m) return null;
  const name = m[1] ?? m[2]!;
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/**
 * Whether a Host header may be answered. Checked while listening on loopback, or whenever names
 * are configured. IP literals are safe: rebinding needs a DNS name, and a page whose URL holds
 * our IP is our own origin. `*.localhost` resolves to loopback inside the browser (RFC 6761), so
 * no DNS answer can point it elsewhere.
 */
export function hostAllowed(host: string | undefined, config: Pick<SecurityConfig, 'http' | 'allowedHosts'>): boolean {
  if (!isLoopbackBind(config.http.host) && config.allowedHosts.length === 0) return true;
  // HTTP/1.0 clients may send no Host; no browser does, so this is not a rebinding page.
  if (host === undefined || host === '') return true;
  const name = hostName(host);
  if (name === null) return false;
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) !== 0) return true;
  return config.allowedHosts.includes(name);
}

/**
 * Whether a route (the router's pattern, as `request.routeOptions.url` gives it; undefined when no
 * route matched) is a page a navigation from another site may open: the UI and the API docs,
 * never an API route.
 */
function isPageRoute(route: string | undefined): boolean {
  return route !== undefined && (!route.startsWith('/api/') || route === '/api/docs' || route.startsWith('/api/docs/'));
}

/**
 * Refuses requests a third-party page made the browser send. Null when the request may go on.
 * `route` is the pattern of the route that matched (undefined for none): decided on that, an
 * encoding of the path cannot turn an API route into a page.
 */
export function crossSiteRefusal(method: string, route: string | undefined, headers: IncomingHttpHeaders, allowedOrigins: readonly string[]): Refusal | null {
  const origin = header(headers, 'origin');
  if (isConfiguredOrigin(origin, allowedOrigins)) return null;
  const site = header(headers, 'sec-fetch-site');
  const host = header(headers, 'host');
  if (STATE_CHANGING.has(method.toUpperCase())) {
    if (origin !== undefined && !isOwnOrigin(origin, host)) {
      return { statusCode: 403, message: `cross-origin ${method} refused: Origin ${origin.slice(0, 100)} may not change state here (see MAILPEN_ALLOWED_ORIGINS)` };
    }
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      return { statusCode: 403, message: `${site} ${method} refused: only the Mailpen UI itself may change state` };
    }
    return null;
  }
  if (site === 'cross-site' || site === 'same-site') {
    const mode = header(headers, 'sec-fetch-mode');
    const dest = header(headers, 'sec-fetch-dest');
    // A navigation shows our page at our origin, out of the other page's reach; images are what
    // the sandboxed mail frame loads from us (its opaque origin makes every load cross-site).
    // Both only where they are meant to land: anywhere else, how long the answer took is itself
    // a read (an <img> or <iframe> on /api/wait?q=... returns at once when a message matches and
    // after the timeout when none does: a page could read reset tokens a character at a time).
    if (mode === 'navigate' && isPageRoute(route)) return null;
    if (dest === 'image' && route === PART_ROUTE) return null;
    return { statusCode: 403, message: `${site} ${mode ?? 'request'} refused: other sites may not read Mailpen (see MAILPEN_ALLOWED_ORIGINS)` };
  }
  return null;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Compares secrets in constant time whatever their lengths (hashing first makes lengths equal). */
function secretEquals(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export function authRequired(config: Pick<SecurityConfig, 'uiAuth' | 'apiToken'>): boolean {
  return config.uiAuth.size > 0 || config.apiToken !== null;
}

/** Whether the Authorization header carries a configured Basic user or the bearer token. */
export function credentialsValid(authorization: string | undefined, config: Pick<SecurityConfig, 'uiAuth' | 'apiToken'>): boolean {
  if (!authorization) return false;
  const space = authorization.indexOf(' ');
  if (space < 0) return false;
  const scheme = authorization.slice(0, space).toLowerCase();
  const credentials = authorization.slice(space + 1).trim();
  if (scheme === 'bearer' && config.apiToken !== null) return secretEquals(credentials, config.apiToken);
  if (scheme === 'basic' && config.uiAuth.size > 0) {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const expected = config.uiAuth.get(decoded.slice(0, colon));
    // Compare against something even for an unknown user, so timing does not reveal user names.
    return secretEquals(decoded.slice(colon + 1), expected ?? '\0no such user') && expected !== undefined;
  }
  return false;
}

export function authRefusal(config: Pick<SecurityConfig, 'uiAuth' | 'apiToken'>): Refusal {
  // Basic first: it is what makes a browser show its login prompt.
  const challenge = config.uiAuth.size > 0 ? 'Basic realm="Mailpen", charset="UTF-8"' : 'Bearer realm="Mailpen"';
  return {
    statusCode: 401,
    message: config.uiAuth.size > 0 && config.apiToken !== null
      ? 'authentication required: HTTP Basic (MAILPEN_UI_AUTH) or Authorization: Bearer <MAILPEN_API_TOKEN>'
      : config.uiAuth.size > 0
        ? 'authentication required: HTTP Basic (MAILPEN_UI_AUTH)'
        : 'authentication required: Authorization: Bearer <MAILPEN_API_TOKEN>',
    headers: { 'www-authenticate': challenge },
  };
}

export function hostRefusal(host: string | undefined): Refusal {
  return {
    statusCode: 421,
    message: `Host "${(host ?? '').slice(0, 100)}" is not served here (DNS-rebinding protection); use localhost, an IP address, or add the name to MAILPEN_ALLOWED_HOSTS`,
  };
}

function send(reply: FastifyReply, refusal: Refusal): FastifyReply {
  if (refusal.headers) void reply.headers(refusal.headers);
  return reply.code(refusal.statusCode).send(errorBody(refusal.statusCode, refusal.message));
}

const CORS_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
/** Preflight answers may be cached this many seconds. */
const CORS_MAX_AGE = '600';

/**
 * A request target that is not a path (the absolute form `GET http://evil.test/api/messages`,
 * meant for proxies, or `*`) names another server or none; nothing here answers it.
 */
export function targetRefusal(url: string): Refusal | null {
  return url.startsWith('/') ? null : { statusCode: 400, message: 'the request target must be a path (this is not a proxy)' };
}

/** The checks every route shares; registered before any route, applied to all (fastify-plugin). */
export const security = fp(async function security(app: App, { config }: AppDeps): Promise<void> {
  app.addHook('onRequest', async (request, reply) => {
    const headers = request.headers;
    const target = targetRefusal(request.url);
    if (target) return send(reply, target);
    const route = request.routeOptions.url;
    const host = header(headers, 'host');
    if (!hostAllowed(host, config)) return send(reply, hostRefusal(host));

    const origin = header(headers, 'origin');
    if (config.allowedOrigins.length > 0) void reply.header('vary', 'Origin');
    if (isConfiguredOrigin(origin, config.allowedOrigins)) {
      void reply.headers({ 'access-control-allow-origin': normalizeOrigin(origin!)!, 'access-control-allow-credentials': 'true' });
      // Preflights carry no credentials, so they are answered before the auth check.
      if (request.method === 'OPTIONS' && headers['access-control-request-method'] !== undefined) {
        return reply
          .headers({
            'access-control-allow-methods': CORS_METHODS,
            'access-control-allow-headers': header(headers, 'access-control-request-headers') ?? 'authorization, content-type',
            'access-control-max-age': CORS_MAX_AGE,
          })
          .code(204)
          .send();
      }
    }

    const crossSite = crossSiteRefusal(request.method, route, headers, config.allowedOrigins);
    if (crossSite) return send(reply, crossSite);

    if (!isOpenRoute(route) && authRequired(config) && !credentialsValid(header(headers, 'authorization'), config)) {
      return send(reply, authRefusal(config));
    }
    return undefined;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (!reply.hasHeader('content-security-policy')) {
      void reply.header('content-security-policy', uiCsp(header(request.headers, 'host'), request.url.split('?', 1)[0]!));
    }
    if (!reply.hasHeader('referrer-policy')) void reply.header('referrer-policy', 'no-referrer');
    if (!reply.hasHeader('x-frame-options')) void reply.header('x-frame-options', 'SAMEORIGIN');
    void reply.header('x-content-type-options', 'nosniff');
    return payload;
  });
});
