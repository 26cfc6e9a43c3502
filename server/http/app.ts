// Builds the HTTP application as a value and never listens: server/main.ts does that, and tests
// call inject() on what this returns. Routes are registered here, explicitly, one file each.
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { MessageStore } from '../store/store.js';
import type { MessageParser } from '../mail/parse.js';
import { healthRoutes } from './routes/health.js';
import { attachEventStream } from './routes/events.js';
import { security } from './security.js';
import { gateUpgrades, type UpgradeTarget } from './upgrade-gate.js';
import { EVENTS_PATH } from '../events/hub.js';
import { openApiDocs } from './routes/docs.js';
import { messageRoutes } from './routes/messages.js';
import { messageContentRoutes } from './routes/message-content.js';
import { checkRoutes } from './routes/checks.js';
import { MessageChecks } from '../checks/index.js';
import { inboxRoutes } from './routes/inboxes.js';
import { tagRoutes } from './routes/tags.js';
import { uploadRoutes } from './routes/upload.js';
import { waitRoutes } from './routes/wait.js';
import { infoRoutes } from './routes/info.js';
import { uiRoutes } from './routes/ui.js';
import { metricsRoutes } from './routes/metrics.js';
import { mcpRoutes } from './routes/mcp.js';
import { rulesRoutes } from './routes/rules.js';
import type { FaultRules } from '../rules/index.js';
import type { Metrics } from '../integrations/metrics.js';
import type { Webhooks } from '../integrations/webhooks.js';
import { providerRoutes } from './providers/index.js';
import { mailpitRoutes } from './compat/mailpit/routes.js';
import { EventsByFormat, MailpitEvents } from './compat/mailpit/events.js';
import { mailhogRoutes, MailhogWebSocket, MAILHOG_WEBSOCKET_PATH } from './compat/mailhog/routes.js';
import { routingRoutes } from './routes/routing.js';
import { Router } from '../routing/router.js';
import { Waiters } from './waiters.js';
import { closeUnusedConnectionsOnClose } from './unused-connections.js';
import { MessageSummarySchema } from './schemas.js';
import { ErrorBody, errorHandler, notFoundHandler } from './errors.js';

export interface AppDeps {
  config: Readonly<Config>;
  store: MessageStore;
  /** The full parse of a message (worker threads and a cache), made and closed by server/main.ts. */
  parser: MessageParser;
  log: Logger;
  /** Facts about the running process that only main knows (bound ports, start time). */
  runtime: Runtime;
  /** Prometheus metrics (/metrics); null or absent when MAILPEN_METRICS=off. */
  metrics?: Metrics | null;
  /** Webhook delivery counters for /api/info; null or absent when no URL is configured. */
  webhooks?: Webhooks | null;
  /** The fault rule set SMTP asks (server/rules/); /api/rules is there only with one. */
  rules?: FaultRules | null;
  /** The routing SMTP uses, which /api/routing reads and replaces; absent: one from the config. */
  router?: Router;
}

export interface Runtime {
  startedAt: Date;
  version: string;
  /** Filled in by main once the listeners are bound; tests may leave the configured values. */
  ports: { smtp: number; smtps: number | null; http: number };
}

export type App = FastifyInstance<any, any, any, Logger, TypeBoxTypeProvider>;

export async function buildApp(deps: AppDeps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.log.child({ edge: 'http' }),
    // A line per request would drown the line per message; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // Upload bodies are checked against the message size limit by the upload route itself.
    bodyLimit: deps.config.maxMessageSize + 64 * 1024,
    // The time a client has to send its whole request (headers and body), so one that trickles a
    // body cannot hold a connection forever (408). It does not cut answers that take long: a
    // 60 s long-poll (/api/wait) is unaffected (checked with Node 20). A 50 MB upload needs 0.4 MB/s.
    requestTimeout: 120_000,
    // A connection silent this long is closed (socket inactivity), and so is a kept-alive one with
    // no next request: one client cannot hold descriptors forever. /api/wait lengthens it for its
    // own connection while it waits.
    connectionTimeout: deps.config.httpIdleTimeout,
    keepAliveTimeout: Math.min(deps.config.httpIdleTimeout, 72_000),
    // Errors fastify raises before routing (a path that is not valid percent-encoding) never reach
    // setErrorHandler; without this they answer fastify's own shape, with a `code` and no handler.
    frameworkErrors: errorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();

  limitConnections(app, deps);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  app.addSchema(ErrorBody);
  app.addSchema(MessageSummarySchema);
  // Before any route: its hooks (Host, cross-site, auth, headers) apply to every request.
  await app.register(security, deps);
  // First: swagger builds the OpenAPI document from the routes registered after it.
  await app.register(openApiDocs, deps);
  await app.register(healthRoutes, deps);
  // Mailpit's API on /api/v1 and /view (compat/mailpit/), MailHog's on /api/v2 and its /api/v1 deletes.
  // The message checks (a worker and a cache) belong to this app: its checks route and Mailpit's
  // html-check/sa-check share them, and they close with it.
  const checks = new MessageChecks({ spamd: deps.config.spamdAddr });
  app.addHook('onClose', async () => checks.close());
  await app.register(mailpitRoutes, { ...deps, checks });
  await app.register(mailhogRoutes, deps);
  const api = { ...deps, prefix: '/api' };
  await app.register(messageRoutes, api);
  await app.register(messageContentRoutes, api);
  await app.register(checkRoutes, { ...api, checks });
  await app.register(uploadRoutes, api);
  await app.register(inboxRoutes, api);
  await app.register(tagRoutes, api);
  const router = deps.router ?? new Router(deps.store, { modes: deps.config.routing, domain: deps.config.routingDomain, rules: deps.config.routingRules });
  await app.register(routingRoutes, { ...api, router });
  // SendGrid, Postmark, Mailgun, SES and Resend send APIs on /sendgrid, /postmark... (providers/).
  await app.register(providerRoutes, deps);
  // One store subscription for every long-poll; they are answered (503) before the server stops.
  const waiters = new Waiters(deps.store, deps.config.maxWaits);
  app.addHook('preClose', async () => waiters.close());
  closeUnusedConnectionsOnClose(app);
  await app.register(waitRoutes, { ...api, waiters });
  await app.register(infoRoutes, { ...api, waiters });
  if (deps.rules) await app.register(rulesRoutes, { ...api, rules: deps.rules });
  // Prometheus metrics and the MCP tools over HTTP, outside /api but behind the same hooks.
  deps.metrics?.watch({ pendingWaits: () => waiters.count, eventClients: () => app.events.clientCount });
  await app.register(metricsRoutes, { metrics: deps.metrics ?? null });
  await app.register(mcpRoutes, { ...deps, root: app });
  // The inbox page at / (last: its page fallback answers only what no route above claims).
  await app.register(uiRoutes);
  const hub = attachEventStream(app, deps);
  // Upgrades never reach fastify's hooks: the gate asks the same questions of them.
  // Mailpit's clients connect to /api/events too: EventsByFormat picks the frames (compat/mailpit/events.ts).
  const mailpitEvents = new MailpitEvents(deps.store, deps.runtime.version, deps.log.child({ edge: 'mailpit-events' }), deps.config.maxEventClients);
  const mailhogSocket = new MailhogWebSocket(deps.store, deps.log.child({ edge: 'mailhog-websocket' }), deps.config.maxEventClients);
  app.addHook('preClose', async () => {
    await Promise.all([mailpitEvents.close(), mailhogSocket.close()]);
  });
  gateUpgrades(
    app.server,
    deps.config,
    deps.log.child({ edge: 'http' }),
    new Map<string, UpgradeTarget>([
      [EVENTS_PATH, new EventsByFormat(hub, mailpitEvents, deps.config.eventsFormat)],
      [MAILHOG_WEBSOCKET_PATH, mailhogSocket],
    ]),
  );
  return app;
}

/** Seconds between two warnings about refused connections. */
const DROP_WARNING_INTERVAL_MS = 10_000;

/**
 * At most MAILPEN_MAX_HTTP_CONNECTIONS at once (Node closes any past it as it arrives), and
 * never unnoticed: a warning says how many were refused, at most every 10 s.
 */
function limitConnections(app: App, { config, log }: AppDeps): void {
  if (config.maxHttpConnections === 0) return;
  app.server.maxConnections = config.maxHttpConnections;
  let dropped = 0;
  let timer: NodeJS.Timeout | null = null;
  app.server.on('drop', () => {
    dropped++;
    if (timer) return;
    log.warn({ limit: config.maxHttpConnections }, 'HTTP connection limit reached (MAILPEN_MAX_HTTP_CONNECTIONS); new connections are closed');
    timer = setTimeout(() => {
      timer = null;
      if (dropped > 1) log.warn({ dropped, limit: config.maxHttpConnections }, 'HTTP connections refused at the limit in the last 10 s');
      dropped = 0;
    }, DROP_WARNING_INTERVAL_MS).unref();
  });
}
