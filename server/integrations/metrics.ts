// Prometheus metrics: counters fed by the store's events, SMTP's observer and the parse channel;
// gauges read at scrape time from whoever owns the number (the store, the event hub, the
// waiters, the webhooks). One registry per server, so tests can run several in one process.
import diagnostics from 'node:diagnostics_channel';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MessageStore } from '../store/store.js';
import { REFUSAL_REASONS, type SmtpObserver } from '../smtp/server.js';
import { PARSE_CHANNEL } from '../mail/parse.js';
import type { WebhookStats } from './webhooks.js';

/** Live numbers the HTTP edge owns, read when scraped. */
export interface HttpGauges {
  eventClients(): number;
  pendingWaits(): number;
}

/** A full parse of most mail takes milliseconds; a pathological one runs into MAILPEN_PARSE_TIMEOUT (5 s). */
const PARSE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class Metrics {
  readonly registry = new Registry();
  readonly smtp: SmtpObserver;
  /** Counts a fault rule's firing (server/rules/); main subscribes it to the rule set. */
  readonly ruleFired: (stage: string) => void;
  #http: HttpGauges = { eventClients: () => 0, pendingWaits: () => 0 };
  readonly #cleanup: (() => void)[] = [];

  constructor(store: MessageStore, webhooks: (() => WebhookStats) | null) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });

    const received = new Counter({ name: 'mailpen_messages_received_total', help: 'Messages stored (SMTP and upload)', registers });
    const evicted = new Counter({ name: 'mailpen_messages_evicted_total', help: 'Messages dropped to stay under MAILPEN_MAX_MESSAGES or MAILPEN_MAX_BYTES', registers });
    const refused = new Counter({
      name: 'mailpen_messages_refused_total',
      help: 'SMTP transactions refused, by reason',
      labelNames: ['reason'] as const,
      registers,
    });
    // Zero from the start, so a rate() over them works before the first refusal.
    for (const reason of REFUSAL_REASONS) refused.inc({ reason }, 0);

    this.#cleanup.push(
      store.subscribe((event) => {
        if (event.type === 'added') received.inc();
        else if (event.type === 'evicted') evicted.inc(event.messages.length);
      }),
    );

    new Gauge({
      name: 'mailpen_stored_messages',
      help: 'Messages in the store',
      registers,
      collect() {
        this.set(store.counts().messages);
      },
    });
    new Gauge({
      name: 'mailpen_stored_bytes',
      help: 'Raw bytes of the messages in the store',
      registers,
      collect() {
        this.set(store.counts().bytes);
      },
    });

    const faultRulesFired = new Counter({ name: 'mailpen_fault_rules_fired_total', help: 'Fault rules fired, by SMTP stage', labelNames: ['stage'] as const, registers });
    this.ruleFired = (stage) => faultRulesFired.inc({ stage });

    const sessionsOpen = new Gauge({ name: 'mailpen_smtp_sessions_open', help: 'SMTP sessions open now', registers });
    const sessions = new Counter({ name: 'mailpen_smtp_sessions_total', help: 'SMTP sessions opened', registers });
    const open = new Set<string>();
    this.smtp = {
      sessionOpened(id) {
        open.add(id);
        sessions.inc();
        sessionsOpen.set(open.size);
      },
      sessionClosed(id) {
        if (open.delete(id)) sessionsOpen.set(open.size);
      },
      refused(reason) {
        refused.inc({ reason });
      },
    };

    const http = (): HttpGauges => this.#http;
    new Gauge({
      name: 'mailpen_event_stream_clients',
      help: 'Connected event-stream (WebSocket) clients',
      registers,
      collect() {
        this.set(http().eventClients());
      },
    });
    new Gauge({
      name: 'mailpen_pending_waits',
      help: 'GET /api/wait requests waiting for a message',
      registers,
      collect() {
        this.set(http().pendingWaits());
      },
    });

    const parse = new Histogram({
      name: 'mailpen_parse_duration_seconds',
      help: 'Time to parse one message in full (the single-message view), in a worker thread',
      buckets: PARSE_BUCKETS,
      registers,
    });
    // The parse pool is one per process: with several servers in one process (tests), each counts every parse.
    const onParse = (data: unknown): void => parse.observe((data as { seconds: number }).seconds);
    diagnostics.subscribe(PARSE_CHANNEL, onParse);
    this.#cleanup.push(() => diagnostics.unsubscribe(PARSE_CHANNEL, onParse));

    if (webhooks) {
      new Gauge({
        name: 'mailpen_webhook_queued',
        help: 'Webhook deliveries waiting or on the wire',
        registers,
        collect() {
          this.set(webhooks().queued);
        },
      });
      new Gauge({
        name: 'mailpen_webhook_retrying',
        help: 'Webhook URLs whose oldest delivery failed and waits for its retry (receivers down now)',
        registers,
        collect() {
          this.set(webhooks().retrying);
        },
      });
      counterFrom('mailpen_webhook_deliveries_total', 'Webhook deliveries a receiver answered with 2xx', () => webhooks().delivered, registers);
      counterFrom('mailpen_webhook_retries_total', 'Webhook attempts after a failed one', () => webhooks().retries, registers);
      counterFrom('mailpen_webhook_failed_total', 'Webhook deliveries given up (after every attempt, or at shutdown)', () => webhooks().failed, registers);
      counterFrom('mailpen_webhook_dropped_total', 'Webhook deliveries dropped from a full queue (MAILPEN_WEBHOOK_QUEUE)', () => webhooks().dropped, registers);
    }
  }

  /** The HTTP edge's own numbers; set once the app that holds them is built. */
  watch(gauges: HttpGauges): void {
    this.#http = gauges;
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    for (const stop of this.#cleanup.splice(0)) stop();
  }
}

/** A counter whose total is kept elsewhere: brought up to it at each scrape. */
function counterFrom(name: string, help: string, total: () => number, registers: Registry[]): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers,
    collect() {
      const now = total();
      if (now > seen) this.inc(now - seen);
      seen = now;
    },
  });
}
