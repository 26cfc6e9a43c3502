// Mailpit's WebSocket frames, `{ Type, Data }`, from the store's events, for Mailpit's clients
// (mailpit-ws listens for new, stats, update, delete, prune, truncate), and which frames a client
// of /api/events gets.
//
// Both Mailpit's clients and Mailpen's connect to /api/events and send nothing that tells them
// apart (mailpit-ws appends /api/events to its base URL and takes no query). So: a client that
// asks gets what it asks for (`?format=mailpit` or `?format=mailpen`; Mailpen's UI and client
// always ask), and one that asks nothing gets MAILPEN_EVENTS_FORMAT, `mailpen` by default, so
// every Mailpen client written so far works as it does. A Mailpit test suite that listens with
// mailpit-ws sets MAILPEN_EVENTS_FORMAT=mailpit, one setting beside the image name.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../../log.js';
import type { MessageStore, StoreEvent } from '../../../store/store.js';
import type { UpgradeTarget } from '../../upgrade-gate.js';
import type { Refusal } from '../../security.js';
import { Broadcast } from '../broadcast.js';
import { mailpitSummary } from './shapes.js';

export type EventsFormat = 'mailpen' | 'mailpit';

/** Stats are sent at most this often: a burst of mail sends a few, as Mailpen's counts frames. */
const STATS_DELAY_MS = 200;

/** Mailpit's event stream: one frame (or one per message, for delete) for each store event, then stats. */
export class MailpitEvents implements UpgradeTarget {
  readonly #broadcast: Broadcast;
  readonly #unsubscribe: () => void;
  #statsTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: MessageStore,
    private readonly version: string,
    log: Logger,
    maxClients: number,
  ) {
    this.#broadcast = new Broadcast('Mailpit event stream', log, { maxClients });
    this.#unsubscribe = store.subscribe((e) => this.#onStoreEvent(e));
  }

  get clientCount(): number {
    return this.#broadcast.clientCount;
  }

  accept(req: IncomingMessage, socket: Duplex, head: Buffer): Refusal | null {
    return this.#broadcast.accept(req, socket, head);
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    if (this.#statsTimer) clearTimeout(this.#statsTimer);
    await this.#broadcast.close();
  }

  #onStoreEvent(e: StoreEvent): void {
    if (this.#broadcast.clientCount === 0) return;
    switch (e.type) {
      case 'added':
        this.#broadcast.send(() => ({ Type: 'new', Data: mailpitSummary(e.message, this.store) }));
        break;
      case 'updated':
        this.#broadcast.send(() =>
          e.change === 'tags' ? { Type: 'update', Data: { ID: e.message.id, Tags: [...e.message.tags] } } : { Type: 'update', Data: { ID: e.message.id, Read: e.message.read } },
        );
        break;
      case 'deleted':
        // Mailpit sends one delete per message.
        for (const m of e.messages) this.#broadcast.send(() => ({ Type: 'delete', Data: { ID: m.id } }));
        break;
      case 'evicted':
        this.#broadcast.send(() => ({ Type: 'prune', Data: null }));
        break;
      case 'cleared':
        // Everything: Mailpit's truncate. One inbox (Mailpit has none): its clients reload on prune.
        this.#broadcast.send(() => ({ Type: e.inbox === null ? 'truncate' : 'prune', Data: null }));
        break;
      default: {
        const never: never = e;
        void never;
      }
    }
    this.#scheduleStats();
  }

  #scheduleStats(): void {
    if (this.#statsTimer) return;
    this.#statsTimer = setTimeout(() => {
      this.#statsTimer = null;
      const c = this.store.counts();
      this.#broadcast.send(() => ({ Type: 'stats', Data: { Total: c.messages, Unread: c.unread, Version: this.version } }));
    }, STATS_DELAY_MS);
    this.#statsTimer.unref();
  }
}

/** /api/events: Mailpen's hub or Mailpit's frames, by `?format=` or, when none is asked, the configured default. */
export class EventsByFormat implements UpgradeTarget {
  constructor(
    private readonly mailpen: UpgradeTarget,
    private readonly mailpit: UpgradeTarget,
    private readonly byDefault: EventsFormat,
  ) {}

  accept(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Refusal | null {
    const asked = url.searchParams.get('format');
    if (asked !== null && asked !== 'mailpen' && asked !== 'mailpit') {
      return { statusCode: 400, message: 'format must be mailpen (Mailpen\'s frames) or mailpit (Mailpit\'s { Type, Data } frames)' };
    }
    return (asked ?? this.byDefault) === 'mailpit' ? this.mailpit.accept(req, socket, head, url) : this.mailpen.accept(req, socket, head, url);
  }
}
