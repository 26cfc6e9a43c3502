// Mailpit's API (v1.33) under /api/v1, and its /view pages: a thin translation over the same store,
// search and checks as Mailpen's own API under /api, so a test suite written for Mailpit (mailpit-api,
// cypress-mailpit, hand-written fetch calls) runs against Mailpen unchanged.
//
// Mailpit's semantics hold on its paths: GET /api/v1/message/{id} marks the message read (Mailpen's
// GET /api/messages/:id does not), `latest` is the newest message, answers are Mailpit's JSON and its
// plain-text "ok", and its errors are plain text. What Mailpen deliberately does not do answers with
// an error that says so, never a silent success: release (Mailpen never delivers), link-check
// (Mailpen fetches no URL found in mail). Chaos maps onto Mailpen's fault rules.
import { Type } from '@sinclair/typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { App, AppDeps } from '../../app.js';
import { storeMessage, type MessageStore, type StoredMessage } from '../../../store/store.js';
import { StoreUnavailableError } from '../../../store/unavailable.js';
import { HttpError } from '../../errors.js';
import { selectedIds, walked } from '../../selection.js';
import { sliceEach, type WalkedPredicate } from '../../../search/sliced-match.js';
import { QueryError } from '../../../search/query.js';
import type { MessagePredicate } from '../../../search/match.js';
import { compileMailpitSearch } from './search.js';
import { BLANK_THUMBNAIL, mailpitHeaders, mailpitMessage, mailpitSummary } from './shapes.js';
import * as S from './schemas.js';
import { composeMime, isAddress, type OutgoingMail } from '../../providers/capture.js';
import { DEFAULT_INBOX, inboxRefusal } from '../../../store/inbox-name.js';
import { normalizeTags } from '../../../store/tags.js';
import { tagCounts } from '../../routes/tags.js';
import { rewriteCidReferences, linksInNewTab } from '../../../mail/html.js';
import { htmlCsp } from '../../routes/message-content.js';
import type { MessageChecks } from '../../../checks/index.js';
import { toMailpitHtmlCheck, toMailpitSpamAssassin } from '../../../checks/mailpit.js';
import { basicCredentials } from '../../providers/capture.js';
import { chaosTriggers, parseChaosTriggers, setChaosTriggers, RuleError, type FaultRules } from '../../../rules/index.js';

const TAG = S.TAGS.mailpit;
/** Mailpit's answer when a list is asked for more than this: a bound, as Mailpen's own API has. */
const MAX_LIMIT = 10_000;

/** Mailpit reads start and limit with Atoi and keeps the default for anything else. */
function page(query: { start?: string | undefined; limit?: string | undefined }): { start: number; limit: number } {
  const start = /^\d{1,9}$/.test(query.start ?? '') ? Number(query.start) : 0;
  const limit = /^\d{1,9}$/.test(query.limit ?? '') ? Math.min(Number(query.limit), MAX_LIMIT) : 50;
  return { start, limit };
}

/** A message by ID, or the newest for `latest` (Mailpit's alias); 404 as plain text when none. */
export function resolveMessage(store: MessageStore, id: string): StoredMessage {
  let message: StoredMessage | undefined;
  if (id === 'latest') store.forEachNewest((m) => ((message = m), false));
  else message = store.get(id);
  if (!message) throw new HttpError(404, id === 'latest' ? 'no messages' : `message ${JSON.stringify(id)} not found`);
  return message;
}

function search(store: MessageStore, query: string, tz: string | undefined): MessagePredicate {
  try {
    return compileMailpitSearch(query, tz, store);
  } catch (err) {
    if (err instanceof QueryError) throw new HttpError(400, `invalid search: ${err.message}`);
    throw err;
  }
}

/**
 * search(), already run over every stored message in slices (server/search/sliced-match.ts), so
 * that walking the store with it is quick and a slow search lets SMTP and other requests in; one
 * that would take too long is refused with 400 and the reason as plain text, as a bad one is.
 */
async function walkedSearch(store: MessageStore, query: string, tz: string | undefined): Promise<WalkedPredicate> {
  return walked(store, search(store, query, tz), {}, 'search: ');
}

/**
 * Every tag in use, sorted as Mailpit sorts them: the names of the counts the store keeps (GET
 * /api/tags's tagCounts), read in slices when messages not indexed yet have tags to read, instead
 * of walking every message in one piece on every list, search and info. Read the store
 * synchronously after awaiting this and the two agree.
 */
export async function allTags(store: MessageStore): Promise<string[]> {
  return (await tagCounts(store)).map((t) => t.name);
}

/** Counters Mailpit reports in RuntimeStats that Mailpen's store can know, counted from its events. */
class RuntimeCounters {
  accepted = 0;
  acceptedSize = 0;
  deleted = 0;
  constructor(store: MessageStore) {
    store.subscribe((e) => {
      if (e.type === 'added') {
        this.accepted++;
        this.acceptedSize += e.message.size;
      } else if (e.type === 'deleted') this.deleted += e.messages.length;
    });
  }
}

/** A 5xx that says what it is (the store, Redis, cannot take a write now: 503): answered with its message, not logged as a bug. */
const deliberate = (error: Error): boolean => error instanceof HttpError || error instanceof StoreUnavailableError;

/** Mailpit answers its errors as plain text; so does every route here. */
function plainErrors(error: FastifyError | HttpError, request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode ?? 500;
  if (status >= 500 && !deliberate(error)) {
    request.log.error({ err: error, url: request.url }, 'Mailpit-compatible request failed');
    void reply.code(500).type('text/plain; charset=utf-8').send('internal error; see the Mailpen log');
    return;
  }
  void reply.code(status).type('text/plain; charset=utf-8').send('validation' in error && error.validation ? `invalid ${error.validationContext ?? 'request'}: ${error.message}` : error.message);
}

const ok = (reply: FastifyReply): FastifyReply => reply.type('text/plain; charset=utf-8').send('ok');

export async function mailpitRoutes(app: App, deps: AppDeps & { checks: MessageChecks }): Promise<void> {
  const { store, config, runtime } = deps;
  const counters = new RuntimeCounters(store);
  app.setErrorHandler(plainErrors);
  // Mailpit takes a DELETE or PUT whose JSON body is empty (curl -X DELETE -H 'Content-Type: application/json').
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, null);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(Object.assign(new HttpError(400, `the body is not JSON: ${(err as Error).message}`)), undefined);
    }
  });

  app.get('/api/v1/info', { schema: { summary: 'Application information (Mailpit)', tags: [TAG], response: { 200: S.Info } } }, async () => {
    // The tag counts first: the rest is read in the same turn, so it counts the same messages.
    const tags = Object.fromEntries((await tagCounts(store)).map((t) => [t.name, t.messages]));
    const counts = store.counts();
    return {
      Version: runtime.version,
      // Mailpen checks no release feed (it makes no outbound request): the latest it knows is itself.
      LatestVersion: runtime.version,
      Database: 'memory',
      DatabaseSize: counts.bytes,
      Messages: counts.messages,
      Unread: counts.unread,
      Tags: tags,
      RuntimeStats: {
        Uptime: Math.round((Date.now() - runtime.startedAt.getTime()) / 1000),
        Memory: process.memoryUsage().rss,
        MessagesDeleted: counters.deleted,
        SMTPAccepted: counters.accepted,
        SMTPAcceptedSize: counters.acceptedSize,
        SMTPRejected: 0,
        SMTPIgnored: 0,
      },
    };
  });

  app.get('/api/v1/webui', { schema: { summary: 'Web UI configuration (Mailpit)', tags: [TAG], response: { 200: S.WebUI } } }, async () => ({
    Label: '',
    MessageRelay: {
      Enabled: false,
      SMTPServer: '',
      ReturnPath: '',
      AllowedRecipients: '',
      BlockedRecipients: '',
      OverrideFrom: '',
      PreserveMessageIDs: false,
      RecipientAllowlist: '',
    },
    SpamAssassin: config.spamdAddr !== null,
    ChaosEnabled: deps.rules != null,
    DuplicatesIgnored: false,
    HideDeleteAllButton: false,
  }));

  const list = async (match: MessagePredicate | undefined, query: { start?: string | undefined; limit?: string | undefined }) => {
    const { start, limit } = page(query);
    // The tags first: the page and counts are read in the same turn, from the same messages.
    const tags = await allTags(store);
    const all = store.counts();
    const found = store.list({ match, limit: Math.max(limit, 1), offset: start });
    const messages = limit === 0 ? [] : found.messages;
    return {
      total: all.messages,
      unread: all.unread,
      count: messages.length,
      messages_count: found.total,
      messages_unread: found.unread,
      start,
      tags,
      messages: messages.map((m) => mailpitSummary(m, store)),
    };
  };

  app.get(
    '/api/v1/messages',
    { schema: { summary: 'List messages, newest first (Mailpit)', tags: [TAG], querystring: S.PageQuery, response: { 200: S.MessagesSummary } } },
    async (request) => list(undefined, request.query),
  );

  app.put(
    '/api/v1/messages',
    {
      schema: {
        summary: 'Set the read status of messages by IDs, by a search, or of all (Mailpit)',
        tags: [TAG],
        querystring: S.TzQuery,
        body: S.ReadBody,
        response: { 200: S.Ok, 400: S.PlainError },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      const read = body.Read ?? false;
      const ids = body.IDs ?? [];
      let targets: string[];
      if (ids.length > 0) targets = ids;
      else {
        const match = body.Search !== undefined && body.Search.trim() !== '' ? await walkedSearch(store, body.Search, request.query.tz) : undefined;
        // The walk's matches are read as they are (list() reads its hits), not looked for again.
        targets = store.list({ match, limit: Infinity }).messages.filter((m) => m.read !== read).map((m) => m.id);
      }
      for (const id of targets) store.setRead(id, read);
      return ok(reply);
    },
  );

  app.delete(
    '/api/v1/messages',
    {
      schema: {
        summary: 'Delete messages by IDs, or all (Mailpit); with no Accept header (MailHog\'s client), an empty 200 as MailHog answers',
        tags: [TAG, S.TAGS.mailhog],
        body: S.DeleteBody,
        response: { 200: S.Ok, 400: S.PlainError },
      },
    },
    async (request, reply) => {
      const ids = request.body?.IDs ?? [];
      if (ids.length === 0) store.clear();
      else store.delete(ids);
      // Mailpit and MailHog both answer DELETE /api/v1/messages: Mailpit with "ok", MailHog with an
      // empty body, which its npm client needs (it parses any body as JSON, and "ok" is not). Its
      // client uses Node's http module, which sends no Accept header; fetch, curl, browsers and
      // mailpit-api all send one.
      if (request.headers.accept === undefined) return reply.send(undefined as unknown as string);
      return ok(reply);
    },
  );

  app.get(
    '/api/v1/search',
    {
      schema: {
        summary: "Search messages in Mailpit's syntax, newest first (Mailpit)",
        tags: [TAG],
        querystring: S.SearchQuery,
        response: { 200: S.MessagesSummary, 400: S.PlainError },
      },
    },
    async (request) => list(await walkedSearch(store, request.query.query, request.query.tz), request.query),
  );

  app.delete(
    '/api/v1/search',
    {
      schema: {
        summary: "Delete the messages a search in Mailpit's syntax finds (Mailpit)",
        tags: [TAG],
        querystring: Type.Object({ query: S.SearchQuery.properties.query, tz: S.SearchQuery.properties.tz }),
        response: { 200: S.Ok, 400: S.PlainError },
      },
    },
    async (request, reply) => {
      store.delete(selectedIds(store, { inbox: undefined, match: await walkedSearch(store, request.query.query, request.query.tz) }));
      return ok(reply);
    },
  );

  app.post(
    '/api/v1/send',
    {
      schema: {
        summary: 'Send a message: it is stored as if received over SMTP, never delivered (Mailpit)',
        tags: [TAG],
        body: S.SendBody,
        response: { 200: S.SendAnswer, 400: Type.Object({ Error: Type.String() }), 503: Type.Object({ Error: Type.String() }) },
      },
      // Mailpit answers send errors as JSON { Error }, a store that cannot take the message (503) too.
      errorHandler: (error: FastifyError | HttpError, request, reply) => {
        const status = error.statusCode ?? 500;
        if (status >= 500 && !deliberate(error)) return plainErrors(error, request, reply);
        void reply.code(status as 400).send({ Error: error.message });
      },
    },
    async (request) => {
      const message = await buildSend(request.body, deps);
      const user = basicCredentials(request)?.user ?? null;
      const inbox = DEFAULT_INBOX;
      const full = inboxRefusal(inbox, store, config.maxInboxes);
      if (full !== null) throw new HttpError(400, full);
      const envelope = { mailFrom: request.body.From.Email, rcptTo: message.rcptTo, helo: '', remoteAddress: request.ip, authUser: user, tls: request.protocol === 'https' };
      const [id] = await storeMessage(store, { raw: message.raw, envelope }, [inbox]);
      return { ID: id! };
    },
  );

  app.get('/api/v1/tags', { schema: { summary: 'Every tag in use (Mailpit)', tags: [TAG], response: { 200: Type.Array(Type.String()) } } }, async () => allTags(store));

  app.put(
    '/api/v1/tags',
    { schema: { summary: "Set (replace) the tags of messages; none removes them all (Mailpit)", tags: [TAG], body: S.SetTagsBody, response: { 200: S.Ok, 400: S.PlainError } } },
    async (request, reply) => {
      const tags = request.body.Tags ?? [];
      for (const id of request.body.IDs) store.setTags(id, tags);
      return ok(reply);
    },
  );

  app.put(
    '/api/v1/tags/:tag',
    { schema: { summary: 'Rename a tag on every message (Mailpit)', tags: [TAG], params: S.TagParam, body: S.RenameTagBody, response: { 200: S.Ok, 400: S.PlainError, 404: S.PlainError } } },
    async (request, reply) => {
      const from = request.params.tag;
      const to = normalizeTags([request.body.Name])[0];
      if (to === undefined) throw new HttpError(400, `invalid tag name: ${JSON.stringify(request.body.Name)}`);
      const carrying = await withTag(store, from);
      if (carrying.length === 0) throw new HttpError(404, `tag not found: ${from}`);
      for (const m of carrying) store.setTags(m.id, [...m.tags.filter((t) => t.toLowerCase() !== from.toLowerCase()), to]);
      return ok(reply);
    },
  );

  app.delete(
    '/api/v1/tags/:tag',
    { schema: { summary: 'Remove a tag from every message; the messages stay (Mailpit)', tags: [TAG], params: S.TagParam, response: { 200: S.Ok, 404: S.PlainError } } },
    async (request, reply) => {
      const tag = request.params.tag;
      const carrying = await withTag(store, tag);
      if (carrying.length === 0) throw new HttpError(404, `tag not found: ${tag}`);
      for (const m of carrying) store.setTags(m.id, m.tags.filter((t) => t.toLowerCase() !== tag.toLowerCase()));
      return ok(reply);
    },
  );

  app.get(
    '/api/v1/message/:id',
    { schema: { summary: 'One message, parsed; marks it read, as Mailpit does (Mailpit)', tags: [TAG], params: S.IdParam, response: { 200: S.Message, 404: S.PlainError } } },
    async (request) => {
      const message = resolveMessage(store, request.params.id);
      const parsed = await deps.parser.parse(message.raw);
      const contents = new Map<string, Buffer>();
      for (const p of parsed.parts) {
        const found = await deps.parser.part(message.raw, p.partId);
        if (found) contents.set(p.partId, found.content);
      }
      store.setRead(message.id, true);
      return mailpitMessage(message, store, parsed, contents);
    },
  );

  app.get(
    '/api/v1/message/:id/headers',
    {
      schema: {
        summary: 'Every header of a message, by name (Mailpit)',
        tags: [TAG],
        params: S.IdParam,
        response: { 200: Type.Record(Type.String(), Type.Array(Type.String())), 404: S.PlainError },
      },
    },
    async (request) => {
      const message = resolveMessage(store, request.params.id);
      return mailpitHeaders(message, await deps.parser.parse(message.raw));
    },
  );

  app.get(
    '/api/v1/message/:id/raw',
    { schema: { summary: 'The message source as received, as text/plain (Mailpit)', tags: [TAG], params: S.IdParam, response: { 200: Type.String(), 404: S.PlainError } } },
    async (request, reply) => {
      const message = resolveMessage(store, request.params.id);
      return reply.type('text/plain; charset=utf-8').header('x-content-type-options', 'nosniff').send(message.raw as unknown as string);
    },
  );

  const part = async (id: string, partID: string) => {
    const message = resolveMessage(store, id);
    const found = await deps.parser.part(message.raw, partID);
    if (!found) throw new HttpError(404, `message ${message.id} has no part ${JSON.stringify(partID)}`);
    return found;
  };

  app.get(
    '/api/v1/message/:id/part/:partID',
    { schema: { summary: 'One attachment or inline part, decoded (Mailpit)', tags: [TAG], params: S.PartParam, response: { 200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }), 404: S.PlainError } } },
    async (request, reply) => {
      const found = await part(request.params.id, request.params.partID);
      const type = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(found.part.contentType) ? found.part.contentType : 'application/octet-stream';
      // As the native parts endpoint: the bytes a sender chose are never run as a page of ours.
      return reply
        .type(type)
        .header('content-disposition', `attachment; filename="${(found.part.filename ?? `part-${found.part.partId}`).replace(/["\\\r\n]/g, '_')}"`)
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .send(found.content);
    },
  );

  app.get(
    '/api/v1/message/:id/part/:partID/thumb',
    {
      schema: {
        summary: 'A 180x120 JPEG for an attachment: blank in Mailpen, which has no image codec (Mailpit)',
        tags: [TAG],
        params: S.PartParam,
        response: { 200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }), 404: S.PlainError },
      },
    },
    async (request, reply) => {
      await part(request.params.id, request.params.partID);
      return reply.type('image/jpeg').send(BLANK_THUMBNAIL);
    },
  );

  app.post(
    '/api/v1/message/:id/release',
    { schema: { summary: 'Release (relay) a message: refused, Mailpen never delivers mail (Mailpit)', tags: [TAG], params: S.IdParam, response: { 400: S.PlainError, 404: S.PlainError } } },
    async (request) => {
      resolveMessage(store, request.params.id);
      throw new HttpError(400, 'release is not available: Mailpen captures mail and never delivers it, so it has no relay (see README, "Switching from Mailpit / MailHog")');
    },
  );

  const { checks } = deps;

  app.get(
    '/api/v1/message/:id/html-check',
    { schema: { summary: "HTML support across mail clients, from Mailpen's message checks (Mailpit)", tags: [TAG], params: S.IdParam, response: { 200: S.AnyObject, 400: S.PlainError, 404: S.PlainError } } },
    async (request) => {
      const message = resolveMessage(store, request.params.id);
      const parsed = await deps.parser.parse(message.raw);
      if (parsed.html === null) throw new HttpError(400, 'message does not contain HTML');
      const result = await checks.check(message.raw, parsed.html, new Set(['html']));
      const html = result.html;
      if (!html || html.status !== 'checked') throw new HttpError(400, html && 'reason' in html ? html.reason : 'the HTML check did not run');
      return toMailpitHtmlCheck(html);
    },
  );

  app.get(
    '/api/v1/message/:id/link-check',
    { schema: { summary: 'Link check: refused, Mailpen makes no outbound request for what mail links (Mailpit)', tags: [TAG], params: S.IdParam, response: { 400: S.PlainError, 404: S.PlainError } } },
    async (request) => {
      resolveMessage(store, request.params.id);
      throw new HttpError(400, 'link-check is not available: Mailpen never connects to a URL found in mail (mail content is hostile); GET /api/messages/:id/links lists the links');
    },
  );

  app.get(
    '/api/v1/message/:id/sa-check',
    { schema: { summary: 'SpamAssassin score through MAILPEN_SPAMD_ADDR (Mailpit)', tags: [TAG], params: S.IdParam, response: { 200: S.AnyObject, 400: S.PlainError, 404: S.PlainError } } },
    async (request) => {
      const message = resolveMessage(store, request.params.id);
      if (config.spamdAddr === null) throw new HttpError(400, 'SpamAssassin is not enabled: set MAILPEN_SPAMD_ADDR (Mailpit: MP_ENABLE_SPAMASSASSIN)');
      const result = await checks.check(message.raw, null, new Set(['spam']));
      if (!result.spam) throw new HttpError(400, 'the spam check did not run');
      return toMailpitSpamAssassin(result.spam);
    },
  );

  // Mailpit's chaos triggers are fault rules (server/rules/chaos.ts): one rule per trigger, with
  // Mailpit's probability, in their own group, so /api/rules shows them and other rules are untouched.
  const rules = deps.rules ?? null;
  if (rules && config.chaosTriggers !== null) setChaosTriggers(rules, parseChaosTriggers(config.chaosTriggers));
  const withRules = (): FaultRules => {
    if (!rules) throw new HttpError(400, 'Chaos is not enabled: this server has no fault rules');
    return rules;
  };
  app.get(
    '/api/v1/chaos',
    { schema: { summary: "Chaos triggers, read from the fault rules named chaos-* (Mailpit)", tags: [TAG], response: { 200: S.ChaosTriggers, 400: S.PlainError } } },
    async () => chaosTriggers(withRules()),
  );
  app.put(
    '/api/v1/chaos',
    {
      schema: {
        summary: 'Set the chaos triggers (omitted ones reset to 0 %): fault rules with a probability at mail, rcpt and auth (Mailpit)',
        tags: [TAG],
        body: Type.Union([S.ChaosTriggersBody, Type.Null()]),
        response: { 200: S.ChaosTriggers, 400: S.PlainError },
      },
    },
    async (request) => {
      try {
        return setChaosTriggers(withRules(), request.body ?? {});
      } catch (err) {
        if (err instanceof RuleError) throw new HttpError(400, err.message);
        throw err;
      }
    },
  );

  // /view/{id}.html and /view/{id}.txt; cypress-mailpit asks for //view/... (its URL builder leaves
  // an empty /api segment), which the router keeps as a path of its own.
  for (const prefix of ['/view', '//view']) {
    app.get(
      `${prefix}/:file`,
      {
        schema: {
          summary: "A message's HTML (.html, ?embed=1 for a frame) or text (.txt) part as a page (Mailpit)",
          tags: [TAG],
          hide: prefix === '//view',
          params: Type.Object({ file: Type.String({ pattern: '^.{1,64}\\.(html|txt)$' }) }),
          querystring: Type.Object({ embed: Type.Optional(Type.String({ maxLength: 8 })) }),
          response: { 200: Type.String(), 404: S.PlainError },
        },
      },
      async (request, reply) => {
        const { file } = request.params;
        const dot = file.lastIndexOf('.');
        const message = resolveMessage(store, file.slice(0, dot));
        const parsed = await deps.parser.parse(message.raw);
        if (file.slice(dot + 1) === 'txt') {
          return reply.type('text/plain; charset=utf-8').header('x-content-type-options', 'nosniff').send(parsed.text ?? '');
        }
        if (parsed.html === null) throw new HttpError(404, 'message does not contain HTML');
        // cid: images point at Mailpen's own parts route (Mailpit points at its /api/v1 one): the page
        // is sandboxed, so its image loads are cross-site, and that route is the one the security
        // checks let a sandboxed frame's images reach (server/http/security.ts, PART_ROUTE).
        let html = rewriteCidReferences(parsed.html, parsed.parts, (partId) => `/api/messages/${encodeURIComponent(message.id)}/parts/${encodeURIComponent(partId)}`);
        if (request.query.embed === '1') html = embedded(html);
        return reply
          .type('text/html; charset=utf-8')
          .header('content-security-policy', htmlCsp())
          .header('x-content-type-options', 'nosniff')
          .header('referrer-policy', 'no-referrer')
          .send(html);
      },
    );
  }
}

/**
 * Mailpit's ?embed=1: every link opens a new tab without a referrer. (Mailpit also appends a script
 * that posts the document's height to the parent frame; Mailpen's pages run no script, so not that.)
 */
function embedded(html: string): string {
  const retargeted = linksInNewTab(html).replace(/<a\b([^>]*)>/gi, (whole, attrs: string) => {
    const cleaned = attrs.replace(/\s(target|rel)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi, '');
    return `<a${cleaned} target="_blank" rel="noreferrer noopener">`;
  });
  return retargeted;
}

/**
 * The messages carrying `tag`, in any case. Walked in slices (a message's tags may have to be read
 * from its headers first): in one piece, renaming a tag of 100,000 messages held every other request.
 */
async function withTag(store: MessageStore, tag: string): Promise<StoredMessage[]> {
  const lower = tag.toLowerCase();
  const out: StoredMessage[] = [];
  await sliceEach(store.since(0), (m) => {
    if (m.tags.some((t) => t.toLowerCase() === lower)) out.push(m);
  });
  // Deleted meanwhile: not renamed, not counted.
  return out.filter((m) => store.get(m.id) === m);
}

/** The MIME message for a send request, built as the provider APIs build theirs; Bcc kept as a header, as Mailpit keeps it. */
async function buildSend(body: S.SendBody, deps: AppDeps): Promise<{ raw: Buffer; rcptTo: string[] }> {
  const restricted = new Set(['to', 'from', 'cc', 'bcc', 'reply-to', 'date', 'subject', 'content-type', 'mime-version']);
  const check = (list: string[], what: string) => {
    for (const a of list) if (!isAddress(a)) throw new HttpError(400, `invalid ${what} address: ${a}`);
  };
  const to = body.To ?? [];
  const cc = body.Cc ?? [];
  const bcc = body.Bcc ?? [];
  const replyTo = body.ReplyTo ?? [];
  check([body.From.Email], 'From');
  check(to.map((a) => a.Email), 'To');
  check(cc.map((a) => a.Email), 'Cc');
  check(bcc, 'Bcc');
  check(replyTo.map((a) => a.Email), 'Reply-To');
  const headers: Array<{ key: string; value: string }> = [];
  // Cleaned as they will be read back (and so no line break reaches the header).
  const tags = normalizeTags(body.Tags ?? []);
  if (tags.length > 0) {
    headers.push({ key: 'X-Tags', value: tags.join(', ') });
    restricted.add('x-tags');
  }
  for (const [key, value] of Object.entries(body.Headers ?? {})) {
    if (restricted.has(key.toLowerCase())) throw new HttpError(400, `cannot overwrite header: "${key}"`);
    if (!/^[!-9;-~]{1,100}$/.test(key) || /[\r\n]/.test(value)) throw new HttpError(400, `invalid header: "${key.slice(0, 100)}"`);
    headers.push({ key, value });
  }
  const attachments = (body.Attachments ?? []).map((a) => {
    // Mailpit takes a data: URL too (JavaScript's readAsDataURL): the base64 after the last comma.
    const content = a.Content.slice(a.Content.lastIndexOf(',') + 1);
    if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(content)) throw new HttpError(400, `error decoding base64 attachment "${a.Filename}"`);
    return { filename: a.Filename, content: Buffer.from(content, 'base64'), contentType: a.ContentType || undefined, cid: a.ContentID || undefined, inline: Boolean(a.ContentID) };
  });
  const mail: OutgoingMail = {
    from: { name: body.From.Name ?? '', address: body.From.Email },
    to: to.map((a) => ({ name: a.Name ?? '', address: a.Email })),
    cc: cc.map((a) => ({ name: a.Name ?? '', address: a.Email })),
    bcc: bcc.map((address) => ({ name: '', address })),
    replyTo: replyTo.map((a) => ({ name: a.Name ?? '', address: a.Email })),
    subject: body.Subject ?? '',
    text: body.Text ?? '',
    html: body.HTML !== undefined && body.HTML !== '' ? body.HTML : undefined,
    headers,
    attachments,
  };
  let raw = await composeMime(mail, 'mailpit-api.mailpen');
  // The composer leaves Bcc out of the headers, as a sender must; Mailpit's send keeps it (its
  // stored message and its Bcc list show it), so it is put back in front, validated addresses only.
  if (bcc.length > 0) raw = Buffer.concat([Buffer.from(`Bcc: ${bcc.join(', ')}\r\n`), raw]);
  if (raw.length > deps.config.maxMessageSize) throw new HttpError(413, `the message is ${raw.length} bytes; the limit is ${deps.config.maxMessageSize} (MAILPEN_MAX_MESSAGE_SIZE)`);
  const rcptTo = [...new Set([...to.map((a) => a.Email), ...cc.map((a) => a.Email), ...bcc])];
  return { raw, rcptTo };
}
