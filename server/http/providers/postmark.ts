// Postmark (POST /postmark/email, /email/batch, /email/withTemplate, /email/batchWithTemplates),
// as the postmark SDK calls them: answers { To, SubmittedAt, MessageID, ErrorCode, Message }, a
// batch one per message; 422 with Postmark's ErrorCode for what it rejects (300: invalid email
// request), 401 with ErrorCode 10 for a bad server token. Point the SDK here with
// new ServerClient(token, { useHttps: false, requestHost: '127.0.0.1:8025/postmark' }).
import type { FastifyRequest } from 'fastify';
import type { App, AppDeps } from '../app.js';
import {
  ApiRejection, Capture, DELIVERY_ONLY, addressesOf, answerErrorsAs, badAddress, encodedBodyLimit, inboxForKey,
  type BuiltMessage, type MailAttachment, type OutgoingMail,
} from './capture.js';

/** Postmark's documented limits. */
const MAX_RECIPIENTS = 50;
const MAX_BATCH = 500;
const MAX_MESSAGE_SIZE = 10 * 1024 * 1024;
/** Postmark's ErrorCode for "Invalid email request" (the SDK raises InvalidEmailRequestError). */
const INVALID_EMAIL_REQUEST = 300;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const invalid = (message: string): ApiRejection => new ApiRejection(422, message, INVALID_EMAIL_REQUEST);

function attachmentsOf(value: unknown): MailAttachment[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid("'Attachments' must be an array.");
  return value.map((a: unknown) => {
    if (!isObject(a) || typeof a.Name !== 'string' || a.Name === '' || typeof a.Content !== 'string') {
      throw invalid('Attachments need a Name and a base64 Content.');
    }
    // Postmark takes "cid:logo.png" or "logo.png"; the HTML refers to it as cid:logo.png.
    const cid = typeof a.ContentID === 'string' && a.ContentID !== '' ? a.ContentID.replace(/^cid:/i, '') : undefined;
    return { filename: a.Name, content: Buffer.from(a.Content, 'base64'), contentType: text(a.ContentType), cid, inline: cid !== undefined };
  });
}

/** One message of a request; `template` is what /withTemplate asked to render, kept as given. */
function mailOf(body: unknown, templated: boolean, maxRecipients: number): OutgoingMail {
  if (!isObject(body)) throw invalid('The request body must be a JSON object.');
  const from = addressesOf(text(body.From));
  if (from.length === 0 || badAddress(from) !== null) throw invalid(`Invalid 'From' address: '${String(body.From ?? '').slice(0, 200)}'.`);
  const to = addressesOf(text(body.To));
  const cc = addressesOf(text(body.Cc));
  const bcc = addressesOf(text(body.Bcc));
  for (const [field, list] of [['To', to], ['Cc', cc], ['Bcc', bcc]] as const) {
    const bad = badAddress(list);
    if (bad !== null) throw invalid(`Invalid '${field}' address: '${bad.slice(0, 200)}'.`);
  }
  const recipients = to.length + cc.length + bcc.length;
  if (recipients === 0) throw invalid('Zero recipients specified');
  if (recipients > maxRecipients) throw invalid(`Maximum of ${maxRecipients} recipients allowed per message (To, Cc and Bcc together); this one has ${recipients}.`);
  const replyTo = addressesOf(text(body.ReplyTo));
  const headers = Array.isArray(body.Headers)
    ? body.Headers.map((h: unknown) => {
        if (!isObject(h) || typeof h.Name !== 'string' || typeof h.Value !== 'string') throw invalid("Each of 'Headers' needs a Name and a Value.");
        return { key: h.Name, value: h.Value };
      })
    : [];
  const mail: OutgoingMail = { from: from[0]!, to, cc, bcc, replyTo, subject: text(body.Subject) ?? '', headers, attachments: attachmentsOf(body.Attachments) };
  if (templated) {
    const id = body.TemplateId ?? body.TemplateAlias;
    if (id === undefined || id === null) throw invalid('A TemplateId or TemplateAlias is required.');
    // Postmark renders the template from a model Mailpen does not have: the model is kept as
    // given, as the text body (JSON), so a test reads back exactly what the application sent.
    const key = body.TemplateId !== undefined ? 'TemplateId' : 'TemplateAlias';
    mail.text = JSON.stringify({ [key]: id, TemplateModel: body.TemplateModel ?? null }, null, 2);
    return mail;
  }
  mail.text = text(body.TextBody);
  mail.html = text(body.HtmlBody);
  if (!mail.text && !mail.html) throw invalid('Provide either email TextBody or HtmlBody or both.');
  return mail;
}

export async function postmarkRoutes(app: App, deps: AppDeps): Promise<void> {
  const capture = new Capture(deps, 'postmark');
  answerErrorsAs(
    app,
    (r) => {
      // Postmark refuses an oversized message as an invalid request, not with 413.
      const status = r.statusCode === 413 ? 422 : r.statusCode;
      const code = r.code !== '' ? r.code : status === 422 ? INVALID_EMAIL_REQUEST : 0;
      return { body: { ErrorCode: code, Message: r.message }, status };
    },
    DELIVERY_ONLY,
  );
  const keyInbox = (request: FastifyRequest): { key: string; inbox: string } => {
    const key = request.headers['x-postmark-server-token'];
    const token = typeof key === 'string' ? key : null;
    const chosen = inboxForKey(token, deps);
    if ('refused' in chosen) throw new ApiRejection(401, `Request does not contain a valid Server token (Mailpen: ${chosen.refused}).`, 10);
    return { key: token!, inbox: chosen.inbox };
  };
  const answer = (mail: OutgoingMail, id: string): Json => ({
    To: mail.to.map((a) => a.address).join(', '),
    SubmittedAt: new Date().toISOString(),
    MessageID: id,
    ErrorCode: 0,
    Message: 'OK',
  });
  const build = async (mail: OutgoingMail): Promise<BuiltMessage> => {
    const built = await capture.build(mail);
    if (built.raw.length > MAX_MESSAGE_SIZE) throw invalid(`The message is ${built.raw.length} bytes; Postmark takes at most 10 MB.`);
    return built;
  };
  const options = { bodyLimit: encodedBodyLimit(Math.max(MAX_MESSAGE_SIZE, deps.config.maxMessageSize)) };

  for (const [path, templated] of [['/email', false], ['/email/withTemplate', true]] as const) {
    app.post(path, { ...options, schema: { summary: `Postmark ${path}`, tags: ['provider APIs'] } }, async (request) => {
      const { key, inbox } = keyInbox(request);
      const mail = mailOf(request.body, templated, capture.recipientLimit(MAX_RECIPIENTS));
      return answer(mail, await capture.store(await build(mail), inbox, key, request));
    });
  }

  // A batch is answered 200 with one result per message, each with its own ErrorCode, as Postmark does.
  const batch = async (request: FastifyRequest, messages: unknown, templated: boolean): Promise<Json[]> => {
    const { key, inbox } = keyInbox(request);
    if (!Array.isArray(messages)) throw invalid(templated ? "'Messages' must be an array." : 'The request body must be a JSON array of messages.');
    if (messages.length > MAX_BATCH) throw invalid(`A batch holds at most ${MAX_BATCH} messages; this one has ${messages.length}.`);
    const built: Array<{ mail: OutgoingMail; message: BuiltMessage } | { refused: Json }> = [];
    for (const body of messages) {
      try {
        const mail = mailOf(body, templated, capture.recipientLimit(MAX_RECIPIENTS));
        built.push({ mail, message: await build(mail) });
      } catch (error) {
        if (!(error instanceof ApiRejection)) throw error;
        built.push({ refused: { ErrorCode: error.code === '' ? INVALID_EMAIL_REQUEST : error.code, Message: error.message } });
      }
    }
    // Every message built before any is stored; then all handed to the store in one turn (one
    // write to a shared store's log). A store that cannot take them fails the request: 503.
    return Promise.all(built.map((b) => ('refused' in b ? b.refused : capture.store(b.message, inbox, key, request).then((id) => answer(b.mail, id)))));
  };
  app.post('/email/batch', { ...options, schema: { summary: 'Postmark /email/batch', tags: ['provider APIs'] } }, async (request) => batch(request, request.body, false));
  app.post('/email/batchWithTemplates', { ...options, schema: { summary: 'Postmark /email/batchWithTemplates', tags: ['provider APIs'] } }, async (request) =>
    batch(request, isObject(request.body) ? request.body.Messages : undefined, true),
  );
}
