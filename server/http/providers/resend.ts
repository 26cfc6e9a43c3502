// Resend (POST /resend/emails and /resend/emails/batch), as the resend SDK calls them: { id }, a
// batch { data: [{ id }] }; errors as { statusCode, name, message }, which the SDK returns as its
// `error`. Point the SDK here with new Resend(key, { baseUrl: 'http://127.0.0.1:8025/resend' })
// (or RESEND_BASE_URL).
import type { FastifyRequest } from 'fastify';
import type { App, AppDeps } from '../app.js';
import {
  ApiRejection, Capture, DELIVERY_ONLY, addressesOf, answerErrorsAs, badAddress, bearerKey, encodedBodyLimit, inboxForKey,
  type BuiltMessage, type MailAttachment, type OutgoingMail,
} from './capture.js';

/** Resend's documented limits: recipients in `to`, emails in a batch, email size after base64. */
const MAX_TO = 50;
const MAX_BATCH = 100;
const MAX_EMAIL_SIZE = 40 * 1024 * 1024;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const stringList = (v: unknown): string[] | undefined => (typeof v === 'string' ? [v] : Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined);

const rejection = (statusCode: number, name: string, message: string): ApiRejection => new ApiRejection(statusCode, message, name);

/** Resend's error names by status, for rejections that carry none (body too large, bad JSON). */
function nameFor(status: number): string {
  if (status === 401) return 'missing_api_key';
  if (status === 403) return 'invalid_api_key';
  if (status === 422 || status === 413) return 'validation_error';
  if (status === 501 || status === 404) return 'not_found';
  if (status >= 500) return 'application_error';
  return 'invalid_parameter';
}

function attachmentsOf(value: unknown): MailAttachment[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw rejection(422, 'invalid_attachment', '`attachments` must be an array.');
  return value.map((a: unknown) => {
    if (!isObject(a)) throw rejection(422, 'invalid_attachment', 'Each attachment must be an object.');
    // Resend fetches `path` itself; Mailpen opens no connection because of a message's content.
    if (typeof a.path === 'string' && a.content === undefined) {
      throw rejection(422, 'invalid_attachment', 'Mailpen does not fetch attachments by `path` (it opens no connection because of mail); send `content` instead.');
    }
    if (typeof a.content !== 'string' || a.content === '') throw rejection(422, 'invalid_attachment', 'Attachment `content` must be a base64 string or a Buffer.');
    if (typeof a.filename !== 'string' || a.filename === '') throw rejection(422, 'invalid_attachment', 'Attachment `filename` is required.');
    const cid = text(a.content_id);
    return { filename: a.filename, content: Buffer.from(a.content, 'base64'), contentType: text(a.content_type), cid, inline: cid !== undefined };
  });
}

function mailOf(body: unknown): OutgoingMail {
  if (!isObject(body)) throw rejection(422, 'validation_error', 'The request body must be a JSON object.');
  for (const field of ['from', 'to', 'subject'] as const) {
    if (body[field] === undefined || body[field] === null || body[field] === '') throw rejection(422, 'missing_required_field', `Missing \`${field}\` field.`);
  }
  const from = addressesOf(text(body.from));
  if (from.length !== 1 || badAddress(from) !== null) {
    throw rejection(422, 'invalid_from_address', 'Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.');
  }
  const lists: Record<'to' | 'cc' | 'bcc' | 'reply_to', OutgoingMail['to']> = { to: [], cc: [], bcc: [], reply_to: [] };
  for (const field of ['to', 'cc', 'bcc', 'reply_to'] as const) {
    if (body[field] === undefined || body[field] === null) continue;
    const values = stringList(body[field]);
    if (values === undefined) throw rejection(422, 'validation_error', `Invalid \`${field}\` field: a string or an array of strings.`);
    lists[field] = addressesOf(values);
    const bad = badAddress(lists[field]);
    if (bad !== null) throw rejection(422, 'validation_error', `Invalid \`${field}\` field. The email address needs to follow the \`email@example.com\` or \`Name <email@example.com>\` format: ${bad.slice(0, 200)}`);
  }
  if (lists.to.length === 0) throw rejection(422, 'missing_required_field', 'Missing `to` field.');
  if (lists.to.length > MAX_TO) throw rejection(422, 'validation_error', `Invalid \`to\` field. Too many recipients: at most ${MAX_TO} (this one has ${lists.to.length}).`);
  if (body.headers !== undefined && !isObject(body.headers)) throw rejection(422, 'validation_error', '`headers` must be an object of header names to string values.');
  const headers = Object.entries((body.headers as Json | undefined) ?? {}).map(([key, value]) => ({ key, value: String(value) }));
  const mail: OutgoingMail = {
    from: from[0]!,
    to: lists.to,
    cc: lists.cc,
    bcc: lists.bcc,
    replyTo: lists.reply_to,
    subject: String(body.subject),
    text: text(body.text),
    html: text(body.html),
    headers,
    attachments: attachmentsOf(body.attachments),
  };
  if (typeof body.scheduled_at === 'string') {
    // "in 1 hour" is accepted by Resend too; a date is noted as ISO 8601, anything else as given.
    const at = Date.parse(body.scheduled_at);
    mail.scheduledAt = Number.isNaN(at) ? body.scheduled_at : new Date(at).toISOString();
  }
  if (isObject(body.template)) {
    // A template stored at Resend is rendered there: its id and variables are kept as given.
    if (!mail.text && !mail.html) mail.text = JSON.stringify({ template: body.template }, null, 2);
  } else if (!mail.text && !mail.html) {
    throw rejection(422, 'validation_error', 'Missing `html` or `text` field.');
  }
  return mail;
}

export async function resendRoutes(app: App, deps: AppDeps): Promise<void> {
  const capture = new Capture(deps, 'resend');
  answerErrorsAs(
    app,
    (r) => {
      const status = r.statusCode === 413 ? 422 : r.statusCode;
      return { body: { statusCode: status, name: typeof r.code === 'string' && r.code !== '' ? r.code : nameFor(r.statusCode), message: r.message }, status };
    },
    DELIVERY_ONLY,
  );
  const keyInbox = (request: FastifyRequest): { key: string; inbox: string } => {
    const key = bearerKey(request);
    if (key === null) throw rejection(401, 'missing_api_key', 'Missing API key in the authorization header. Include the following header in the request: Authorization: Bearer YOUR_API_KEY');
    const chosen = inboxForKey(key, deps);
    if ('refused' in chosen) throw rejection(403, 'invalid_api_key', `API key is invalid (Mailpen: ${chosen.refused}).`);
    return { key, inbox: chosen.inbox };
  };
  const build = async (mail: OutgoingMail): Promise<BuiltMessage> => {
    const built = await capture.build(mail);
    if (built.raw.length > MAX_EMAIL_SIZE) throw rejection(422, 'validation_error', `The email is ${built.raw.length} bytes; Resend takes at most 40 MB.`);
    return built;
  };
  const options = { bodyLimit: encodedBodyLimit(Math.max(MAX_EMAIL_SIZE, deps.config.maxMessageSize)) };

  app.post('/emails', { ...options, schema: { summary: 'Resend: send an email', tags: ['provider APIs'] } }, async (request) => {
    const { key, inbox } = keyInbox(request);
    const mail = mailOf(request.body);
    const limit = capture.recipientLimit(Number.MAX_SAFE_INTEGER);
    const recipients = new Set([...mail.to, ...mail.cc, ...mail.bcc].map((a) => a.address)).size;
    if (recipients > limit) throw rejection(422, 'validation_error', `Too many recipients: ${recipients}; the limit is ${limit} (MAILPEN_MAX_RECIPIENTS).`);
    return { id: await capture.store(await build(mail), inbox, key, request) };
  });

  // Strict validation (the default) refuses the whole batch for one bad email; permissive stores
  // the good ones and lists the others in `errors`, by index.
  app.post('/emails/batch', { ...options, schema: { summary: 'Resend: send a batch of emails', tags: ['provider APIs'] } }, async (request) => {
    const { key, inbox } = keyInbox(request);
    const emails = request.body;
    if (!Array.isArray(emails) || emails.length === 0) throw rejection(422, 'validation_error', 'The request body must be an array of emails.');
    if (emails.length > MAX_BATCH) throw rejection(422, 'validation_error', `A batch holds at most ${MAX_BATCH} emails; this one has ${emails.length}.`);
    const permissive = request.headers['x-batch-validation'] === 'permissive';
    const built: Array<BuiltMessage | null> = [];
    const errors: Array<{ index: number; message: string }> = [];
    for (const [index, email] of emails.entries()) {
      try {
        if (isObject(email) && (email.attachments !== undefined || email.scheduled_at !== undefined)) {
          throw rejection(422, 'validation_error', '`attachments` and `scheduled_at` are not supported in batch emails.');
        }
        built.push(await build(mailOf(email)));
      } catch (error) {
        if (!(error instanceof ApiRejection) || !permissive) throw error;
        errors.push({ index, message: error.message });
        built.push(null);
      }
    }
    const data = await Promise.all(built.flatMap((message) => (message === null ? [] : [capture.store(message, inbox, key, request).then((id) => ({ id }))])));
    return permissive ? { data, errors } : { data };
  });
}
