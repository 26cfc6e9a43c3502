// One typed, validated, frozen configuration value, built once at start from
// defaults < environment variables (MAILPEN_*) < command-line flags, and passed as an argument.
// Every setting is one row of SETTINGS: its variable, flag, default, parser and help all live there,
// so `mailpen --help` and the README table cannot drift from what is accepted.
import { inboxNameProblem } from './store/inbox-name.js';
import { checkRouting, parseModes, parseRules, RoutingError, type RoutingMode, type RoutingRule } from './routing/settings.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface Config {
  smtp: HostPort;
  /** Implicit-TLS (465-style) listener; null when off. */
  smtps: HostPort | null;
  http: HostPort;
  /** Name in the SMTP greeting and EHLO reply. */
  hostname: string;
  /** Where mail is kept: 'memory' (this process), or a redis:// or rediss:// URL shared by several replicas (server/store/redis/). */
  store: string;
  maxMessages: number;
  maxBytes: number;
  maxMessageSize: number;
  /** Largest upload body (POST /api/messages): an mbox of many messages, each under maxMessageSize. */
  maxUploadSize: number;
  maxRecipients: number;
  maxConnections: number;
  /** Milliseconds an SMTP client may stay silent. */
  smtpIdleTimeout: number;
  /**
   * STARTTLS on the plain SMTP port: off (not offered; the default, as the most used client libraries
   * upgrade whenever it is offered and then reject a self-signed certificate), on (offered), required
   * (MAIL FROM and AUTH before it are refused).
   */
  smtpStartTls: 'off' | 'on' | 'required';
  tlsCert: string | null;
  tlsKey: string | null;
  smtpAuth: 'optional' | 'strict';
  /** user -> password, for strict mode (and CRAM-MD5 in it). */
  smtpUsers: ReadonlyMap<string, string>;
  /** API keys the provider edges (/sendgrid, /postmark...) accept; empty: any key. */
  providerKeys: readonly string[];
  /** How a message's inbox is chosen, modes tried in order (server/routing/); GET/PUT /api/routing change it while running. */
  routing: RoutingMode[];
  /** The domain mode's suffix: alice@run42.<suffix> lands in inbox run42. */
  routingDomain: string;
  /** The rules mode's rules: a query in the search language and the inbox of the mail it matches. */
  routingRules: RoutingRule[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  logFormat: 'auto' | 'pretty' | 'json';
  /** Web origins (scheme://host[:port]) besides the UI's own that may call the API and open the event stream. */
  allowedOrigins: readonly string[];
  /** Host names accepted in the Host header besides the loopback ones (DNS-rebinding protection). */
  allowedHosts: readonly string[];
  /** HTTP Basic users for the UI, the API and the event stream; empty: no Basic auth. */
  uiAuth: ReadonlyMap<string, string>;
  /** Bearer token accepted for the API and the event stream; null: none. */
  apiToken: string | null;
  /** Concurrent event-stream (WebSocket) clients; 0: no limit. */
  maxEventClients: number;
  /** Concurrent pending GET /api/wait requests; 0: no limit. */
  maxWaits: number;
  /** Concurrent HTTP connections, event-stream clients included; 0: no limit. */
  maxHttpConnections: number;
  /** Milliseconds an HTTP connection may stay silent (no request started, or nothing sent or read). */
  httpIdleTimeout: number;
  /** Inboxes that may exist at once: each is in every counts frame and every inbox list. */
  maxInboxes: number;
  /** Worker threads that parse whole messages for the message view (mailparser). */
  parseWorkers: number;
  /** Milliseconds a full parse may take; past it the message is shown raw and its worker ended. */
  parseTimeout: number;
  /** Where a new message is POSTed (server/integrations/webhooks.ts); empty: Mailpen connects nowhere. */
  webhookUrls: readonly string[];
  /** Key of the HMAC-SHA256 signature header on each webhook POST; null: unsigned. */
  webhookSecret: string | null;
  /** Milliseconds a webhook receiver has to answer before the attempt counts as failed. */
  webhookTimeout: number;
  /** Milliseconds before the first retry of a failed webhook delivery; doubled for each further one. */
  webhookRetry: number;
  /** Deliveries waiting per webhook URL; past it the oldest are dropped (and counted). */
  webhookQueue: number;
  /** Serve GET /metrics (Prometheus text format). */
  metrics: boolean;
  /** spamd for the SpamAssassin part of GET /api/messages/:id/checks; null: that check is off. */
  spamdAddr: HostPort | null;
  /** The frames a client of /api/events that does not ask (?format=) gets: Mailpen's, or Mailpit's { Type, Data }. */
  eventsFormat: 'mailpen' | 'mailpit';
  /** Mailpit's chaos triggers set at start as fault rules (server/rules/chaos.ts reads them); null: none. */
  chaosTriggers: string | null;
  /** JSON file of fault rules loaded at start (server/rules/); null: start with none. */
  rulesFile: string | null;
}

export class ConfigError extends Error {}

interface Setting<K extends keyof Config> {
  key: K;
  env: string;
  flag: string;
  default: string;
  accepts: string;
  help: string;
  parse(value: string): Config[K];
}

function fail(accepts: string): never {
  throw new ConfigError(accepts);
}

export function parseHostPort(value: string): HostPort {
  // "1025", ":1025", "0.0.0.0:1025", "[::1]:1025"
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d{1,5})$/.exec(value.trim());
  if (!m) fail('host:port, for example 127.0.0.1:1025 or 0.0.0.0:1025');
  const port = Number(m[3]);
  if (port > 65535) fail('a port from 0 to 65535');
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

function parseStore(value: string): string {
  if (value === 'memory') return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail('memory, or a Redis URL such as redis://host:6379/0');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return fail('memory, or a URL starting redis:// or rediss://');
  if (url.hostname === '') return fail('a Redis URL with a host (redis://host:6379/0)');
  return value;
}

function parseCount(value: string): number {
  if (!/^\d+$/.test(value.trim())) fail('a whole number (0 for unlimited)');
  return Number(value);
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

export function parseBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) fail('a size in bytes, or with a unit: 512KB, 50MB, 1GB (0 for unlimited)');
  return Math.floor(Number(m[1]) * unit);
}

function parseDuration(value: string): number {
  const m = /^(\d+)\s*(ms|s|m)?$/.exec(value.trim());
  if (!m) fail('a duration: 30s, 500ms, 5m (a bare number is milliseconds)');
  return Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 1);
}

function oneOf<T extends string>(...values: T[]): (v: string) => T {
  return (v) => (values.includes(v as T) ? (v as T) : fail(values.join(', ')));
}

function parseUsers(value: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const pair of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const colon = pair.indexOf(':');
    if (colon <= 0) fail('a comma-separated list of user:password');
    users.set(pair.slice(0, colon), pair.slice(colon + 1));
  }
  return users;
}

function parseOrigins(value: string): string[] {
  const origins: string[] = [];
  for (const item of value.split(',').map((o) => o.trim()).filter(Boolean)) {
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      fail('a comma-separated list of origins such as http://localhost:3000');
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search || url.hash) {
      fail('a comma-separated list of origins such as http://localhost:3000 (scheme, host and port only)');
    }
    origins.push(url.origin);
  }
  return origins;
}

function parseHostNames(value: string): string[] {
  const hosts = value.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  for (const h of hosts) if (!/^[a-z0-9.-]{1,253}$/.test(h)) fail('a comma-separated list of host names, without ports');
  return hosts;
}

const optionalPath = (v: string): string | null => (v.trim() === '' ? null : v);

function parsePositiveCount(value: string): number {
  const n = parseCount(value);
  return n > 0 ? n : fail('a whole number above 0');
}

function parsePositiveDuration(value: string): number {
  const ms = parseDuration(value);
  return ms > 0 ? ms : fail('a duration above 0: 30s, 500ms, 5m');
}

function parseWebhookUrls(value: string): string[] {
  const urls: string[] = [];
  for (const item of value.split(',').map((u) => u.trim()).filter(Boolean)) {
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      fail('a comma-separated list of http(s) URLs such as http://localhost:3000/hooks/mail');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') fail('a comma-separated list of http(s) URLs (no other scheme)');
    urls.push(url.href);
  }
  return urls;
}

/**
 * Mailpit's MP_CHAOS_TRIGGERS format, checked here so a bad value stops the start; the rules module
 * (server/rules/chaos.ts, not loaded by this light module) turns it into rules.
 */
function parseChaosTriggerList(value: string): string | null {
  if (value.trim() === '') return null;
  for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(sender|recipients?|auth|authentication):(\d{3}):(\d{1,3})$/i.exec(item);
    if (!m || Number(m[2]) < 400 || Number(m[2]) > 599 || Number(m[3]) > 100) {
      fail('comma-separated <trigger>:<error code>:<percent>, the trigger Sender, Recipient or Authentication, the code 400-599, e.g. Sender:451:50');
    }
  }
  return value;
}

export const SETTINGS: { [K in keyof Config]: Setting<K> }[keyof Config][] = [
  { key: 'smtp', env: 'MAILPEN_SMTP_ADDR', flag: '--smtp-addr', default: '127.0.0.1:1025', accepts: 'host:port', help: 'SMTP listener', parse: parseHostPort },
  {
    key: 'smtps', env: 'MAILPEN_SMTPS_ADDR', flag: '--smtps-addr', default: '', accepts: 'host:port or empty',
    help: 'implicit-TLS SMTP listener (465-style); off when empty',
    parse: (v) => (v.trim() === '' ? null : parseHostPort(v)),
  },
  { key: 'http', env: 'MAILPEN_HTTP_ADDR', flag: '--http-addr', default: '127.0.0.1:8025', accepts: 'host:port', help: 'UI and API listener', parse: parseHostPort },
  {
    key: 'hostname', env: 'MAILPEN_HOSTNAME', flag: '--hostname', default: 'mailpen', accepts: 'a host name',
    help: 'name in the SMTP greeting',
    parse: (v) => (/^[A-Za-z0-9.-]{1,253}$/.test(v) ? v : fail('a host name of letters, digits, dots and dashes')),
  },
  {
    key: 'store', env: 'MAILPEN_STORE', flag: '--store', default: 'memory', accepts: 'memory or a redis:// URL',
    help: 'where mail is kept: memory (this process), or Redis shared by several replicas (password and TLS in the URL: rediss://:pass@host:6379/0); see Running several replicas',
    parse: parseStore,
  },
  { key: 'maxMessages', env: 'MAILPEN_MAX_MESSAGES', flag: '--max-messages', default: '10000', accepts: 'count', help: 'messages kept; the oldest are evicted (0: no limit)', parse: parseCount },
  { key: 'maxBytes', env: 'MAILPEN_MAX_BYTES', flag: '--max-bytes', default: '512MB', accepts: 'size', help: "the store's budget for raw bytes; the oldest are evicted (0: no limit). 128MB or less also makes V8 optimize for size; each cache of read mail holds a sixteenth of the budget, 16MB at most", parse: parseBytes },
  { key: 'maxMessageSize', env: 'MAILPEN_MAX_MESSAGE_SIZE', flag: '--max-message-size', default: '50MB', accepts: 'size', help: 'largest message accepted (SMTP answers 552 above it)', parse: parseBytes },
  { key: 'maxUploadSize', env: 'MAILPEN_MAX_UPLOAD_SIZE', flag: '--max-upload-size', default: '200MB', accepts: 'size', help: 'largest upload (POST /api/messages); each message of an mbox is held to the message size', parse: parseBytes },
  { key: 'maxRecipients', env: 'MAILPEN_MAX_RECIPIENTS', flag: '--max-recipients', default: '1000', accepts: 'count', help: 'RCPT TO per message (452 above it)', parse: parseCount },
  { key: 'maxConnections', env: 'MAILPEN_MAX_CONNECTIONS', flag: '--max-connections', default: '200', accepts: 'count', help: 'concurrent SMTP connections (421 above it)', parse: parseCount },
  { key: 'smtpIdleTimeout', env: 'MAILPEN_SMTP_IDLE_TIMEOUT', flag: '--smtp-idle-timeout', default: '60s', accepts: 'duration', help: 'an SMTP client silent this long is disconnected', parse: parseDuration },
  {
    key: 'smtpStartTls', env: 'MAILPEN_SMTP_STARTTLS', flag: '--smtp-starttls', default: 'off', accepts: 'off|on|required',
    help: 'STARTTLS on the SMTP port: off (not offered, so every client works with its defaults), on (offered; the default when MAILPEN_TLS_CERT is set), required (MAIL FROM or AUTH before STARTTLS is refused)',
    parse: oneOf('off', 'on', 'required'),
  },
  { key: 'tlsCert', env: 'MAILPEN_TLS_CERT', flag: '--tls-cert', default: '', accepts: 'file path', help: 'PEM certificate for STARTTLS and SMTPS (self-signed one made at start when empty)', parse: optionalPath },
  { key: 'tlsKey', env: 'MAILPEN_TLS_KEY', flag: '--tls-key', default: '', accepts: 'file path', help: 'PEM private key for the certificate', parse: optionalPath },
  { key: 'smtpAuth', env: 'MAILPEN_SMTP_AUTH', flag: '--smtp-auth', default: 'optional', accepts: 'optional|strict', help: 'optional: AUTH allowed, any credentials accepted; strict: AUTH required, configured users only', parse: oneOf('optional', 'strict') },
  { key: 'smtpUsers', env: 'MAILPEN_SMTP_USERS', flag: '--smtp-users', default: '', accepts: 'user:pass,...', help: 'users for strict SMTP auth', parse: parseUsers },
  {
    key: 'providerKeys', env: 'MAILPEN_PROVIDER_KEYS', flag: '--provider-keys', default: '', accepts: 'key,...',
    help: 'API keys the provider APIs (SendGrid, Postmark, Mailgun, SES, Resend) accept, each its own inbox; any key when empty',
    parse: (v) => v.split(',').map((k) => k.trim()).filter(Boolean),
  },
  {
    key: 'routing', env: 'MAILPEN_ROUTING', flag: '--routing', default: 'auth', accepts: 'mode,...',
    help: 'how an SMTP message\'s inbox is chosen, modes tried in order, the first that names one wins, else default: auth (the AUTH user), subaddress (alice+run42@x: run42), domain (alice@run42.inbox.test: run42), rules (MAILPEN_ROUTING_RULES); a message whose recipients name several inboxes is stored in each',
    parse: parseModes,
  },
  { key: 'routingDomain', env: 'MAILPEN_ROUTING_DOMAIN', flag: '--routing-domain', default: 'inbox.test', accepts: 'domain', help: 'the domain mode\'s suffix: mail to anyone@NAME.<suffix> lands in inbox NAME', parse: (v) => v },
  {
    key: 'routingRules', env: 'MAILPEN_ROUTING_RULES', flag: '--routing-rules', default: '', accepts: 'JSON',
    help: 'the rules mode\'s rules, a JSON array: [{"inbox":"tenant-a","query":"to:@tenant-a.example"}]; every rule whose query (search syntax) matches puts the message in its inbox',
    parse: (v) => {
      try {
        return parseRules(v);
      } catch (e) {
        throw e instanceof RoutingError ? new ConfigError(e.message) : e;
      }
    },
  },
  { key: 'logLevel', env: 'MAILPEN_LOG_LEVEL', flag: '--log-level', default: 'info', accepts: 'level', help: 'fatal, error, warn, info, debug, trace or silent', parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent') },
  { key: 'logFormat', env: 'MAILPEN_LOG_FORMAT', flag: '--log-format', default: 'auto', accepts: 'auto|pretty|json', help: 'auto: readable on a terminal, JSON otherwise', parse: oneOf('auto', 'pretty', 'json') },
  {
    key: 'allowedOrigins', env: 'MAILPEN_ALLOWED_ORIGINS', flag: '--allowed-origins', default: '', accepts: 'origin,...',
    help: "other web origins allowed to call the API (CORS) and open the event stream; none when empty", parse: parseOrigins,
  },
  {
    key: 'allowedHosts', env: 'MAILPEN_ALLOWED_HOSTS', flag: '--allowed-hosts', default: '', accepts: 'name,...',
    help: 'host names accepted in the Host header besides localhost and IP addresses (DNS-rebinding protection)', parse: parseHostNames,
  },
  { key: 'uiAuth', env: 'MAILPEN_UI_AUTH', flag: '--ui-auth', default: '', accepts: 'user:pass,...', help: 'HTTP Basic users required for the UI, API and event stream; off when empty', parse: parseUsers },
  {
    key: 'apiToken', env: 'MAILPEN_API_TOKEN', flag: '--api-token', default: '', accepts: 'token',
    help: 'bearer token required for the API and event stream (Authorization: Bearer <token>); off when empty',
    parse: (v) => (v.trim() === '' ? null : v.trim()),
  },
  { key: 'maxEventClients', env: 'MAILPEN_MAX_EVENT_CLIENTS', flag: '--max-event-clients', default: '200', accepts: 'count', help: 'concurrent event-stream clients (503 at the upgrade above it; 0: no limit)', parse: parseCount },
  { key: 'maxWaits', env: 'MAILPEN_MAX_WAITS', flag: '--max-waits', default: '1000', accepts: 'count', help: 'concurrent GET /api/wait requests (503 above it; 0: no limit)', parse: parseCount },
  { key: 'maxHttpConnections', env: 'MAILPEN_MAX_HTTP_CONNECTIONS', flag: '--max-http-connections', default: '500', accepts: 'count', help: 'concurrent HTTP connections, event-stream clients included (closed at once above it, and logged; 0: no limit)', parse: parseCount },
  { key: 'httpIdleTimeout', env: 'MAILPEN_HTTP_IDLE_TIMEOUT', flag: '--http-idle-timeout', default: '60s', accepts: 'duration', help: 'an HTTP connection silent this long is closed (a pending /api/wait is not silent)', parse: parseDuration },
  { key: 'maxInboxes', env: 'MAILPEN_MAX_INBOXES', flag: '--max-inboxes', default: '1000', accepts: 'count', help: 'inboxes at once; mail for a new inbox past it is refused (SMTP 452 at DATA, API 400; 0: no limit)', parse: parseCount },
  { key: 'parseWorkers', env: 'MAILPEN_PARSE_WORKERS', flag: '--parse-workers', default: '2', accepts: 'count of 1 or more', help: 'worker threads that parse whole messages for the message view, so no message can stall the server', parse: (v) => { const n = parseCount(v); return n >= 1 ? n : fail('1 or more'); } },
  { key: 'parseTimeout', env: 'MAILPEN_PARSE_TIMEOUT', flag: '--parse-timeout', default: '5s', accepts: 'duration', help: 'a message whose full parse takes longer is shown raw, with the reason', parse: parseDuration },
  {
    key: 'webhookUrls', env: 'MAILPEN_WEBHOOK_URLS', flag: '--webhook-urls', default: '', accepts: 'url,...',
    help: 'http(s) URLs that get a POST of each new message\'s summary (JSON); the only connections Mailpen makes; none when empty', parse: parseWebhookUrls,
  },
  { key: 'webhookSecret', env: 'MAILPEN_WEBHOOK_SECRET', flag: '--webhook-secret', default: '', accepts: 'secret', help: 'signs each webhook body: X-Mailpen-Signature: sha256=<HMAC-SHA256 hex>; unsigned when empty', parse: (v) => (v === '' ? null : v) },
  { key: 'webhookTimeout', env: 'MAILPEN_WEBHOOK_TIMEOUT', flag: '--webhook-timeout', default: '10s', accepts: 'duration', help: 'a webhook receiver slower than this to answer counts as a failure (retried)', parse: parsePositiveDuration },
  { key: 'webhookRetry', env: 'MAILPEN_WEBHOOK_RETRY', flag: '--webhook-retry', default: '1s', accepts: 'duration', help: 'wait before the first retry of a failed delivery; doubled each time, at most 5m, 10 attempts in all', parse: parsePositiveDuration },
  { key: 'webhookQueue', env: 'MAILPEN_WEBHOOK_QUEUE', flag: '--webhook-queue', default: '1000', accepts: 'count', help: 'deliveries waiting per webhook URL; above it the oldest are dropped and counted (/api/info, /metrics)', parse: parsePositiveCount },
  { key: 'metrics', env: 'MAILPEN_METRICS', flag: '--metrics', default: 'on', accepts: 'on|off', help: 'serve GET /metrics in the Prometheus text format (behind the API\'s checks)', parse: (v) => oneOf('on', 'off')(v) === 'on' },
  {
    key: 'spamdAddr', env: 'MAILPEN_SPAMD_ADDR', flag: '--spamd-addr', default: '', accepts: 'host:port or empty',
    help: 'a SpamAssassin spamd to score messages with (GET /api/messages/:id/checks); Mailpen connects to it only; off when empty',
    parse: (v) => (v.trim() === '' ? null : parseHostPort(v)),
  },
  {
    key: 'eventsFormat', env: 'MAILPEN_EVENTS_FORMAT', flag: '--events-format', default: 'mailpen', accepts: 'mailpen|mailpit',
    help: "the frames /api/events sends a client that does not ask with ?format=: Mailpen's, or Mailpit's { Type, Data } for Mailpit's clients (mailpit-ws); Mailpen's UI and client always ask",
    parse: oneOf('mailpen', 'mailpit'),
  },
  {
    key: 'chaosTriggers', env: 'MAILPEN_CHAOS_TRIGGERS', flag: '--chaos-triggers', default: '', accepts: 'trigger:code:percent,...',
    help: "Mailpit's chaos triggers (Sender, Recipient, Authentication), e.g. Sender:451:50, set at start as fault rules with that probability (/api/v1/chaos changes them); none when empty",
    parse: parseChaosTriggerList,
  },
  {
    key: 'rulesFile', env: 'MAILPEN_RULES_FILE', flag: '--rules-file', default: '', accepts: 'file path',
    help: 'fault rules loaded at start, a JSON array as PUT /api/rules takes (a bad file stops the start); none when empty', parse: optionalPath,
  },
];

/**
 * Builds the config. `overrides` are already-typed values laid over everything
 * (tests use it for port 0 and small limits).
 */
export function loadConfig(
  argv: readonly string[] = [],
  env: Readonly<Record<string, string | undefined>> = {},
  overrides: Partial<Config> = {},
): Readonly<Config> {
  const flags = parseFlags(argv);
  const config: Record<string, unknown> = {};
  /** Settings given by a flag, a variable or an override, as opposed to left at their default. */
  const chosen = new Set<string>(Object.keys(overrides));
  for (const s of SETTINGS) {
    const [source, raw] =
      flags.has(s.flag) ? [`${s.flag}`, flags.get(s.flag)!] : env[s.env] !== undefined ? [s.env, env[s.env]!] : ['default', s.default];
    if (source !== 'default') chosen.add(s.key);
    try {
      config[s.key] = s.parse(raw);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      throw new ConfigError(`invalid ${source === 'default' ? s.env : source} "${raw}": expected ${e.message}`);
    }
  }
  Object.assign(config, overrides);
  const c = config as unknown as Config;
  if ((c.tlsCert === null) !== (c.tlsKey === null)) {
    throw new ConfigError('MAILPEN_TLS_CERT and MAILPEN_TLS_KEY go together: set both or neither');
  }
  // A configured certificate is a request for TLS; only an explicit MAILPEN_SMTP_STARTTLS=off keeps it off the SMTP port.
  if (c.tlsCert !== null && !chosen.has('smtpStartTls')) c.smtpStartTls = 'on';
  if (c.maxMessageSize === 0) {
    throw new ConfigError('MAILPEN_MAX_MESSAGE_SIZE must be above 0: it is the largest message accepted (50MB by default)');
  }
  if (c.maxBytes > 0 && c.maxMessageSize > c.maxBytes) {
    // A message larger than the whole budget would evict everything and still not fit.
    throw new ConfigError(
      `MAILPEN_MAX_MESSAGE_SIZE (${c.maxMessageSize} bytes) is larger than MAILPEN_MAX_BYTES (${c.maxBytes} bytes), the store's whole budget: lower the first or raise the second`,
    );
  }
  if (c.smtpAuth === 'strict' && c.smtpUsers.size === 0) {
    throw new ConfigError('MAILPEN_SMTP_AUTH=strict needs at least one user in MAILPEN_SMTP_USERS (user:password)');
  }
  try {
    const routing = checkRouting({ modes: c.routing, domain: c.routingDomain, rules: c.routingRules });
    c.routingDomain = routing.domain;
  } catch (e) {
    if (!(e instanceof RoutingError)) throw e;
    throw new ConfigError(`routing (MAILPEN_ROUTING, MAILPEN_ROUTING_DOMAIN, MAILPEN_ROUTING_RULES): ${e.message}`);
  }
  // A user's name is its inbox's name: one that cannot be could never deliver.
  for (const user of c.smtpUsers.keys()) {
    const problem = inboxNameProblem(user);
    if (problem !== null) throw new ConfigError(`MAILPEN_SMTP_USERS: user ${JSON.stringify(user.slice(0, 40))}: ${problem}`);
  }
  return Object.freeze(c);
}

function parseFlags(argv: readonly string[]): Map<string, string> {
  const known = new Set(SETTINGS.map((s) => s.flag));
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!known.has(name)) throw new ConfigError(`unknown option ${name}; see mailpen --help`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`${name} needs a value`);
    flags.set(name, value);
  }
  return flags;
}

export function helpText(): string {
  const rows = SETTINGS.map((s) => [`  ${s.flag} <${s.accepts}>`, s.env, s.default === '' ? '(none)' : s.default, s.help]);
  const w0 = Math.max(...rows.map((r) => r[0]!.length));
  const w1 = Math.max(...rows.map((r) => r[1]!.length));
  const w2 = Math.max(...rows.map((r) => r[2]!.length));
  return [
    'mailpen: a fake SMTP server for developers. It captures every message and delivers none.',
    '',
    'Usage: mailpen [options]',
    '       mailpen sendmail [sendmail options] [recipients...] < message',
    '       mailpen mcp [--url URL]    (an MCP server on stdio for coding agents; see mailpen mcp --help)',
    '',
    'Every option can also be set by its environment variable; a flag wins over the variable.',
    '',
    `${'  option'.padEnd(w0)}  ${'variable'.padEnd(w1)}  ${'default'.padEnd(w2)}  meaning`,
    ...rows.map((r) => `${r[0]!.padEnd(w0)}  ${r[1]!.padEnd(w1)}  ${r[2]!.padEnd(w2)}  ${r[3]}`),
    '',
    '  --help, -h      this text',
    '  --version       the version',
  ].join('\n');
}

/** The README's configuration table, rendered from the same rows as --help. */
export function configTableMarkdown(): string {
  const cell = (v: string): string => v.replace(/\|/g, '\\|');
  return [
    '| variable | flag | default | meaning |',
    '|---|---|---|---|',
    ...SETTINGS.map((s) => `| \`${s.env}\` | \`${s.flag}\` | ${s.default === '' ? '(none)' : `\`${s.default}\``} | ${cell(s.help)} |`),
  ].join('\n');
}
