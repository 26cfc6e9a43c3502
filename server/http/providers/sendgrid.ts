// SendGrid v3 Mail Send (POST /sendgrid/v3/mail/send), as @sendgrid/mail calls it: one message per
// personalization, 202 with X-Message-Id, errors as { errors: [{ message, field, help }] }.
// Point the SDK here with client.setDefaultRequest('baseUrl', 'http://127.0.0.1:8025/sendgrid/').
import type { FastifyRequest } from 'fastify';
import type { App, AppDeps } from '../app.js';
import type { Address } from '../../store/types.js';
import {
  ApiRejection, Capture, DELIVERY_ONLY, answerErrorsAs, bearerKey, encodedBodyLimit, inboxForKey, isAddress,
  type MailAttachment, type OutgoingMail,
} from './capture.js';

/** SendGrid's documented limits: personalizations per request and recipients across them. */
const MAX_PERSONALIZATIONS = 1000;
const MAX_RECIPIENTS = 1000;
/** "The total size of your email, including attachments, must be less than 30MB." */
const MAX_EMAIL_SIZE = 30 * 1024 * 1024;

/** A rejection that names the request field, as SendGrid's errors do. */
class FieldRejection extends ApiRejection {
  constructor(
    message: string,
    readonly field: string | null,
    statusCode = 400,
  ) {
    super(statusCode, message);
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function emailOf(value: unknown, field: string): Address {
  if (!isObject(value) || typeof value.email !== 'string') throw new FieldRejection('The email address is required.', `${field}.email`);
  if (!isAddress(value.email)) throw new FieldRejection('Does not contain a valid address.', `${field}.email`);
  return { address: value.email, name: typeof value.name === 'string' ? value.name : '' };
}

function emailsOf(value: unknown, field: string): Address[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new FieldRejection(`The ${field} field must be an array.`, field);
  return value.map((v, i) => emailOf(v, `${field}.${i}`));
}

function headersOf(value: unknown, field: string): Array<{ key: string; value: string }> {
  if (value === undefined || value === null) return [];
  if (!isObject(value)) throw new FieldRejection('Headers must be an object of header names to string values.', field);
  return Object.entries(value).map(([key, v]) => {
    if (typeof v !== 'string') throw new FieldRejection(`Invalid type. Expected: string, given: ${typeof v}.`, `${field}.${key}`);
    return { key, value: v };
  });
}

function attachmentsOf(value: unknown): MailAttachment[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new FieldRejection('The attachments field must be an array.', 'attachments');
  return value.map((a: unknown, i) => {
    const field = `attachments.${i}`;
    if (!isObject(a) || typeof a.content !== 'string' || a.content === '') {
      throw new FieldRejection('The attachment content is required.', `${field}.content`);
    }
    if (!/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(a.content)) {
      throw new FieldRejection('The attachment content must be base64 encoded.', `${field}.content`);
    }
    if (typeof a.filename !== 'string' || a.filename === '') throw new FieldRejection('The attachment filename parameter is required.', `${field}.filename`);
    const inline = a.disposition === 'inline';
    const cid = typeof a.content_id === 'string' ? a.content_id : undefined;
    if (inline && cid === undefined) {
      // @sendgrid/mail's types name it contentId but send it unchanged; the API reads content_id.
      const hint = a.contentId === undefined ? '' : ' (Mailpen: this one has contentId, which @sendgrid/mail sends unchanged; the API reads content_id)';
      throw new FieldRejection(`The content_id parameter is required if your attachment is inline.${hint}`, `${field}.content_id`);
    }
    return {
      filename: a.filename,
      content: Buffer.from(a.content, 'base64'),
      contentType: typeof a.type === 'string' ? a.type : undefined,
      cid: inline ? cid : undefined,
      inline,
    };
  });
}

/** Unix seconds (SendGrid's send_at) as ISO 8601. */
function sendAtOf(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new FieldRejection('send_at must be a Unix timestamp in seconds.', field);
  return new Date(value * 1000).toISOString();
}

/** Legacy substitutions: each key replaced by its value, literally, in the subject and bodies. */
function substitute(text: string | undefined, substitutions: Json): string | undefined {
  if (text === undefined) return undefined;
  let out = text;
  for (const [key, value] of Object.entries(substitutions)) if (typeof value === 'string' && key !== '') out = out.split(key).join(value);
  return out;
}

/** The messages one request asks for: one per personalization. */
function mailsOf(body: unknown): OutgoingMail[] {
  if (!isObject(body)) throw new FieldRejection('The request body must be a JSON object.', null);
  const { personalizations } = body;
  if (!Array.isArray(personalizations) || personalizations.length === 0 || personalizations.length > MAX_PERSONALIZATIONS) {
    throw new FieldRejection(`The personalizations field must have at least one, and no more than ${MAX_PERSONALIZATIONS} elements.`, 'personalizations');
  }
  if (body.from === undefined) throw new FieldRejection('The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.', 'from');
  const from = emailOf(body.from, 'from');
  const templateId = typeof body.template_id === 'string' ? body.template_id : undefined;
  const content = body.content === undefined ? [] : body.content;
  if (!Array.isArray(content)) throw new FieldRejection('The content field must be an array.', 'content');
  let text: string | undefined;
  let html: string | undefined;
  let amp: string | undefined;
  for (const [i, part] of content.entries()) {
    if (!isObject(part) || typeof part.type !== 'string' || part.type === '') throw new FieldRejection('The content type is required.', `content.${i}.type`);
    if (typeof part.value !== 'string' || part.value === '') throw new FieldRejection('The content value must be a string at least one character in length.', `content.${i}.value`);
    if (part.type === 'text/plain') text = part.value;
    else if (part.type === 'text/html') html = part.value;
    else if (part.type === 'text/x-amp-html') amp = part.value;
    else throw new FieldRejection(`Mailpen keeps text/plain, text/html and text/x-amp-html content; ${part.type.slice(0, 100)} is not one.`, `content.${i}.type`);
  }
  if (content.length === 0 && templateId === undefined) {
    throw new FieldRejection('Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block.', 'content');
  }
  const replyTo = [...(body.reply_to === undefined ? [] : [emailOf(body.reply_to, 'reply_to')]), ...emailsOf(body.reply_to_list, 'reply_to_list')];
  const headers = headersOf(body.headers, 'headers');
  const attachments = attachmentsOf(body.attachments);
  const sendAt = sendAtOf(body.send_at, 'send_at');
  let recipients = 0;
  return personalizations.map((p: unknown, i): OutgoingMail => {
    const field = `personalizations.${i}`;
    if (!isObject(p)) throw new FieldRejection('Each personalization must be an object.', field);
    const to = emailsOf(p.to, `${field}.to`);
    if (to.length === 0) {
      throw new FieldRejection('The to array is required for all personalization objects, and must have at least one email object with a valid email address.', `${field}.to`);
    }
    const cc = emailsOf(p.cc, `${field}.cc`);
    const bcc = emailsOf(p.bcc, `${field}.bcc`);
    recipients += to.length + cc.length + bcc.length;
    if (recipients > MAX_RECIPIENTS) throw new FieldRejection(`The total number of recipients must be no more than ${MAX_RECIPIENTS}.`, `${field}.to`);
    const subject = typeof p.subject === 'string' ? p.subject : typeof body.subject === 'string' ? body.subject : undefined;
    if ((subject === undefined || subject === '') && templateId === undefined) {
      throw new FieldRejection('The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.', 'subject');
    }
    const substitutions = isObject(p.substitutions) ? p.substitutions : {};
    // A dynamic template is rendered by SendGrid from data Mailpen does not have: the data is kept
    // as given, as the text body (JSON), so a test reads back exactly what the application sent.
    const templateData = p.dynamic_template_data;
    const templateText = templateId !== undefined && text === undefined && html === undefined
      ? JSON.stringify({ template_id: templateId, dynamic_template_data: templateData ?? null }, null, 2)
      : undefined;
    return {
      from,
      to,
      cc,
      bcc,
      replyTo,
      subject: substitute(subject, substitutions) ?? '',
      text: templateText ?? substitute(text, substitutions),
      html: substitute(html, substitutions),
      amp,
      headers: [...headers, ...headersOf(p.headers, `${field}.headers`)],
      attachments,
      scheduledAt: sendAtOf(p.send_at, `${field}.send_at`) ?? sendAt,
    };
  });
}

export async function sendgridRoutes(app: App, deps: AppDeps): Promise<void> {
  const capture = new Capture(deps, 'sendgrid');
  answerErrorsAs(
    app,
    (r) => ({ body: { errors: [{ message: r.message, field: r instanceof FieldRejection ? r.field : null, help: null }] } }),
    DELIVERY_ONLY,
  );
  const keyInbox = (request: FastifyRequest): { key: string; inbox: string } => {
    const key = bearerKey(request);
    const chosen = inboxForKey(key, deps);
    if ('refused' in chosen) {
      throw new FieldRejection(`The provided authorization grant is invalid, expired, or revoked (Mailpen: ${chosen.refused})`, null, 401);
    }
    return { key: key!, inbox: chosen.inbox };
  };

  app.post(
    '/v3/mail/send',
    {
      bodyLimit: encodedBodyLimit(Math.max(MAX_EMAIL_SIZE, deps.config.maxMessageSize)),
      schema: { summary: 'SendGrid v3 Mail Send: each personalization is stored as one message', tags: ['provider APIs'] },
    },
    async (request, reply) => {
      const { key, inbox } = keyInbox(request);
      const mails = mailsOf(request.body);
      const limit = capture.recipientLimit(MAX_RECIPIENTS);
      const total = mails.reduce((n, m) => n + m.to.length + m.cc.length + m.bcc.length, 0);
      if (total > limit) throw new FieldRejection(`The total number of recipients must be no more than ${limit} (MAILPEN_MAX_RECIPIENTS).`, 'personalizations');
      const body = request.body as Json;
      const settings = isObject(body.mail_settings) ? body.mail_settings : {};
      // Sandbox mode: SendGrid validates and answers 200 without sending; so does Mailpen, storing nothing.
      if (isObject(settings.sandbox_mode) && settings.sandbox_mode.enable === true) return reply.code(200).send();
      const built = await Promise.all(mails.map((mail) => capture.build(mail)));
      const ids = await Promise.all(built.map((message) => capture.store(message, inbox, key, request)));
      // One X-Message-Id per request, as SendGrid gives: the Mailpen id of the first message.
      return reply.code(202).header('x-message-id', ids[0]!).send();
    },
  );
}
