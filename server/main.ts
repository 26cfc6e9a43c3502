// Where Mailpen starts, in one ordered block: config is already checked; then the store, the
// webhooks and metrics that subscribe to it, the parser, the TLS material, HTTP, SMTP. close()
// stops them in reverse: SMTP first (no new mail), then HTTP, then the parser's workers, then the
// webhooks flush what is queued.
import type { AddressInfo } from 'node:net';
import { ConfigError, type Config, type HostPort } from './config.js';
import { createLogger, type Logger } from './log.js';
import { MemoryStore } from './store/memory-store.js';
import type { MessageStore } from './store/store.js';
import { loadTls } from './smtp/tls.js';
import { startSmtp } from './smtp/server.js';
import { buildApp, type App, type Runtime } from './http/app.js';
import { VERSION } from './package-root.js';
import { Webhooks } from './integrations/webhooks.js';
import { Metrics } from './integrations/metrics.js';
import { FaultRules, loadRulesFile } from './rules/index.js';
import { Router, type RoutingSettings } from './routing/router.js';
import { MessageParser } from './mail/parse.js';
import type { SharedSettings } from './store/redis/replicated-store.js';
import { applyHeapMode, heapModeFor } from './heap-mode.js';
import { cacheBytesFor } from './store/cache-bounds.js';

/** A port in use or an address not on this machine is a setting to change: say which. */
function listenError(err: unknown, setting: string, addr: HostPort): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new ConfigError(`${setting} ${addr.host}:${addr.port}: the port is already in use (another Mailpen, Mailpit or MailHog?)`);
  if (code === 'EADDRNOTAVAIL') return new ConfigError(`${setting} ${addr.host}:${addr.port}: no such address on this machine`);
  if (code === 'EACCES') return new ConfigError(`${setting} ${addr.host}:${addr.port}: not allowed to listen there (ports below 1024 need privileges)`);
  return err;
}

/**
 * MAILPEN_STORE: this process's memory, or Redis shared by several replicas (server/store/redis/,
 * loaded only then). A replica catches up from Redis before anything listens, so it serves only
 * once it holds what the others do.
 */
async function openStore(config: Readonly<Config>, log: Logger): Promise<{ store: MessageStore; shared: SharedSettings | null }> {
  const limits = { maxMessages: config.maxMessages, maxBytes: config.maxBytes };
  if (config.store === 'memory') return { store: new MemoryStore(limits), shared: null };
  const { ReplicatedStore } = await import('./store/redis/replicated-store.js');
  const store = new ReplicatedStore(config.store, limits, log.child({ edge: 'redis' }));
  try {
    await store.caughtUp();
  } catch (err) {
    await store.close();
    throw err;
  }
  return { store, shared: store };
}

/**
 * With replicas on Redis, the fault rules and the routing set through the API on one are in force
 * on all, and after a restart: what Redis holds replaces the rules file and MAILPEN_ROUTING* at start.
 * A change Redis cannot take is refused (503) before it applies here.
 */
function shareSettings(shared: SharedSettings, rules: FaultRules, router: Router, log: Logger): void {
  const adopting = (what: string, adopt: (value: unknown) => void) => (value: unknown) => {
    try {
      adopt(value);
    } catch (err) {
      // A setting this version cannot read (written by another one): what is in force here stays.
      log.warn({ err: (err as Error).message }, `the shared ${what} could not be applied here`);
    }
  };
  rules.onChange(shared.share('rules', adopting('fault rules', (value) => rules.adopt(value))));
  router.onChange(shared.share('routing', adopting('routing', (value) => router.adopt(value as RoutingSettings))));
}

export interface Mailpen {
  config: Readonly<Config>;
  store: MessageStore;
  /** The fault rule set SMTP asks and /api/rules changes. */
  rules: FaultRules;
  app: App;
  log: Logger;
  smtp: AddressInfo;
  smtps: AddressInfo | null;
  http: AddressInfo;
  close(): Promise<void>;
}

export async function start(config: Readonly<Config>, log: Logger = createLogger(config)): Promise<Mailpen> {
  const heap = heapModeFor(config.maxBytes);
  applyHeapMode(heap);
  const { store, shared } = await openStore(config, log);
  // The only outbound connections Mailpen can make, to MAILPEN_WEBHOOK_URLS; without one, none exists.
  const webhooks = config.webhookUrls.length > 0 ? new Webhooks(store, config, log.child({ edge: 'webhooks' }), VERSION) : null;
  const metrics = config.metrics ? new Metrics(store, webhooks && (() => webhooks.stats)) : null;
  const parser = new MessageParser({ workers: config.parseWorkers, timeoutMs: config.parseTimeout, cacheBytes: cacheBytesFor(config.maxBytes) });
  // Which inboxes SMTP mail goes to: shared by SMTP and the API that can change it (/api/routing).
  const router = new Router(store, { modes: config.routing, domain: config.routingDomain, rules: config.routingRules });
  // Fault rules before any listener: a bad rules file stops the start (ConfigError, exit code 2).
  const rules = new FaultRules({ idleTimeout: config.smtpIdleTimeout });
  if (config.rulesFile !== null) loadRulesFile(config.rulesFile, rules);
  if (shared) shareSettings(shared, rules, router, log.child({ edge: 'redis' }));
  if (metrics) rules.subscribe((fired) => metrics.ruleFired(fired.stage));
  const tls = await loadTls(config);
  const runtime: Runtime = {
    startedAt: new Date(),
    version: VERSION,
    ports: { smtp: config.smtp.port, smtps: config.smtps?.port ?? null, http: config.http.port },
  };
  const app = await buildApp({ config, store, parser, log, runtime, metrics, webhooks, router, rules });
  await app.listen({ host: config.http.host, port: config.http.port }).catch((err: unknown) => {
    throw listenError(err, 'MAILPEN_HTTP_ADDR', config.http);
  });
  const http = app.server.address() as AddressInfo;
  let smtp;
  try {
    smtp = await startSmtp(config, store, tls, log.child({ edge: 'smtp' }), metrics?.smtp, rules, router);
  } catch (err) {
    await app.close();
    await parser.close();
    await webhooks?.close(0);
    metrics?.close();
    await store.close?.();
    // Node's listen errors carry the port they failed on.
    const smtps = config.smtps !== null && (err as { port?: number }).port === config.smtps.port ? config.smtps : null;
    throw smtps ? listenError(err, 'MAILPEN_SMTPS_ADDR', smtps) : listenError(err, 'MAILPEN_SMTP_ADDR', config.smtp);
  }
  runtime.ports = { smtp: smtp.smtp.port, smtps: smtp.smtps?.port ?? null, http: http.port };
  log.info(
    { smtp: `${smtp.smtp.address}:${smtp.smtp.port}`, smtps: smtp.smtps ? `${smtp.smtps.address}:${smtp.smtps.port}` : undefined, http: `http://${config.http.host}:${http.port}/`, heap },
    'Mailpen is listening',
  );

  let closing: Promise<void> | null = null;
  return {
    config, store, rules, app, log, smtp: smtp.smtp, smtps: smtp.smtps, http,
    close() {
      closing ??= (async () => {
        await smtp.close();
        await app.close();
        await parser.close();
        // Last: mail that SMTP or an upload stored while closing still goes out (for FLUSH_MS at most).
        await webhooks?.close();
        metrics?.close();
        // Last: the Redis connections (what was appended is acknowledged before QUIT returns).
        await store.close?.();
      })();
      return closing;
    },
  };
}
