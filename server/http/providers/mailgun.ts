// Mailgun (POST /mailgun/v3/{domain}/messages and /messages.mime), as mailgun.js calls them: a
// multipart form (URL-encoded works too), { id, message: 'Queued. Thank you.' }, errors as
// { message }. A MIME upload is stored byte for byte. Point the SDK here with
// mailgun.client({ username: 'api', key, url: 'http://127.0.0.1:8025/mailgun' }).
import type { FastifyRequest } from 'fastify';
import type { App, AppDeps } from '../app.js';
import { readHeaderBlock, parseAddresses } from '../../mail/headers.js';
import {
  ApiRejection, Capture, DELIVERY_ONLY, addressesOf, answerErrorsAs, badAddress, basicCredentials, encodedBodyLimit, inboxForKey,
  type BuiltMessage, type MailAttachment, type OutgoingMail,
} from './capture.js';

/** Mailgun's documented limits: recipients per message, message size. */
const MAX_RECIPIENTS = 1000;
const MAX_MESSAGE_SIZE = 25 * 1024 * 1024;

/** The form as read: every value of each field in order, strings and files. */
type Form = Map<string, Array<string | File>>;

async function readForm(request: FastifyRequest): Promise<Form> {
  const body = request.body;
  if (!Buffer.isBuffer(body)) throw new ApiRejection(400, 'the request must be multipart/form-data or application/x-www-form-urlencoded');
  let data: FormData;
  try {
    // undici's form parser (Node's own fetch): no extra dependency, and the bytes are already in memory.
    // A view of the same bytes, not a copy; a request body is never in shared memory.
    const bytes = new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength);
    data = await new Response(bytes, { headers: { 'content-type': request.headers['content-type'] ?? '' } }).formData();
  } catch (error) {
    throw new ApiRejection(400, `the form could not be read: ${(error as Error).message}`);
  }
  const form: Form = new Map();
  for (const [name, value] of data.entries()) {
    const values = form.get(name) ?? [];
    values.push(value);
    form.set(name, values);
  }
  return form;
}

const strings = (form: Form, name: string): string[] => (form.get(name) ?? []).filter((v): v is string => typeof v === 'string');
const first = (form: Form, name: string): string | undefined => strings(form, name)[0];

/** Repeated fields and comma-separated lists alike: to=a@x&to=b@y and to="a@x, b@y". */
function addressField(form: Form, name: string): OutgoingMail['to'] {
  const addresses = addressesOf(strings(form, name));
  const bad = badAddress(addresses);
  if (bad !== null) throw new ApiRejection(400, `'${name}' parameter is not a valid address. please check documentation`);
  return addresses;
}

async function filesOf(form: Form, name: 'attachment' | 'inline'): Promise<MailAttachment[]> {
  const files = (form.get(name) ?? []).filter((v): v is File => typeof v !== 'string');
  return Promise.all(
    files.map(async (file) => ({
      filename: file.name,
      content: Buffer.from(await file.arrayBuffer()),
      contentType: file.type || undefined,
      // Mailgun names an inline part by its file name: the HTML shows it as cid:<file name>.
      cid: name === 'inline' ? file.name : undefined,
      inline: name === 'inline',
    })),
  );
}

/** %recipient.name% and the like, from recipient-variables (batch sending). */
function personalize(text: string | undefined, variables: Record<string, unknown>): string | undefined {
  return text?.replace(/%recipient\.([A-Za-z0-9_-]+)%/g, (whole, key: string) => (key in variables ? String(variables[key]) : whole));
}

async function mailsOf(form: Form, maxRecipients: number): Promise<OutgoingMail[]> {
  const fromField = first(form, 'from');
  if (fromField === undefined || fromField === '') throw new ApiRejection(400, 'from parameter is missing');
  const from = parseAddresses(fromField);
  if (from.length !== 1 || badAddress(from) !== null) throw new ApiRejection(400, "'from' parameter is not a valid address. please check documentation");
  if (strings(form, 'to').length === 0) throw new ApiRejection(400, 'to parameter is missing');
  const to = addressField(form, 'to');
  const cc = addressField(form, 'cc');
  const bcc = addressField(form, 'bcc');
  if (to.length + cc.length + bcc.length > maxRecipients) throw new ApiRejection(400, `Too many recipients: at most ${maxRecipients} per message`);
  const text = first(form, 'text');
  const html = first(form, 'html');
  const template = first(form, 'template');
  if (!text && !html && !template) throw new ApiRejection(400, "Need at least one of 'text', 'html' or 'template' parameters specified");
  const headers: OutgoingMail['headers'] = [];
  const variables: Record<string, string> = {};
  for (const [name, values] of form) {
    for (const value of values) {
      if (typeof value !== 'string') continue;
      if (name.startsWith('h:') && name.length > 2) headers.push({ key: name.slice(2), value });
      else if (name.startsWith('v:') && name.length > 2) variables[name.slice(2)] = value;
    }
  }
  // Mailgun carries custom variables to the recipient in this header, as JSON.
  if (Object.keys(variables).length > 0) headers.push({ key: 'X-Mailgun-Variables', value: JSON.stringify(variables) });
  const deliveryTime = first(form, 'o:deliverytime');
  const base: OutgoingMail = {
    from: from[0]!,
    to,
    cc,
    bcc,
    replyTo: [],
    subject: first(form, 'subject') ?? '',
    // A template stored at Mailgun is rendered there: its name and variables are kept as given.
    text: text || (html ? undefined : JSON.stringify({ template, 't:variables': first(form, 't:variables') ?? null }, null, 2)),
    html: html || undefined,
    amp: first(form, 'amp-html'),
    headers,
    attachments: [...(await filesOf(form, 'attachment')), ...(await filesOf(form, 'inline'))],
    scheduledAt: deliveryTime === undefined ? undefined : Number.isNaN(Date.parse(deliveryTime)) ? deliveryTime : new Date(deliveryTime).toISOString(),
  };
  const recipientVariables = first(form, 'recipient-variables');
  if (recipientVariables === undefined) return [base];
  // Batch sending: one message per To recipient, each seeing only itself, with its own variables.
  let byRecipient: Record<string, Record<string, unknown>>;
  try {
    byRecipient = JSON.parse(recipientVariables) as Record<string, Record<string, unknown>>;
  } catch {
    throw new ApiRejection(400, "'recipient-variables' parameter is not a valid JSON");
  }
  return to.map((recipient) => {
    const vars = byRecipient[recipient.address] ?? {};
    return { ...base, to: [recipient], subject: personalize(base.subject, vars) ?? '', text: personalize(base.text, vars), html: personalize(base.html, vars) };
  });
}

export async function mailgunRoutes(app: App, deps: AppDeps): Promise<void> {
  const capture = new Capture(deps, 'mailgun');
  answerErrorsAs(app, (r) => (r.statusCode === 401 ? { body: 'Forbidden', headers: { 'content-type': 'text/plain; charset=utf-8' } } : { body: { message: r.message } }), DELIVERY_ONLY);
  app.addContentTypeParser(['multipart/form-data', 'application/x-www-form-urlencoded'], { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  const keyInbox = (request: FastifyRequest): { key: string; inbox: string } => {
    const key = basicCredentials(request)?.password ?? null;
    const chosen = inboxForKey(key, deps);
    // Mailgun answers a bad key with 401 and the bare word "Forbidden".
    if ('refused' in chosen) throw new ApiRejection(401, 'Forbidden');
    return { key: key!, inbox: chosen.inbox };
  };
  const options = { bodyLimit: encodedBodyLimit(Math.max(MAX_MESSAGE_SIZE, deps.config.maxMessageSize)) };
  const answer = (domain: string, id: string): { id: string; message: string } => ({ id: `<${id}@${domain}>`, message: 'Queued. Thank you.' });
  const checkSize = (message: BuiltMessage): BuiltMessage => {
    if (message.raw.length > MAX_MESSAGE_SIZE) throw new ApiRejection(413, `The message is ${message.raw.length} bytes; Mailgun takes at most 25 MB.`);
    return message;
  };

  app.post<{ Params: { domain: string } }>(
    '/v3/:domain/messages',
    { ...options, schema: { summary: 'Mailgun: send a message from form fields', tags: ['provider APIs'] } },
    async (request) => {
      const { key, inbox } = keyInbox(request);
      const mails = await mailsOf(await readForm(request), capture.recipientLimit(MAX_RECIPIENTS));
      const built = await Promise.all(mails.map(async (mail) => checkSize(await capture.build(mail))));
      const ids = await Promise.all(built.map((message) => capture.store(message, inbox, key, request)));
      return answer(request.params.domain, ids[0]!);
    },
  );

  app.post<{ Params: { domain: string } }>(
    '/v3/:domain/messages.mime',
    { ...options, schema: { summary: 'Mailgun: send a MIME message as it is (stored byte for byte)', tags: ['provider APIs'] } },
    async (request) => {
      const { key, inbox } = keyInbox(request);
      const form = await readForm(request);
      if (strings(form, 'to').length === 0) throw new ApiRejection(400, 'to parameter is missing');
      const to = addressField(form, 'to');
      const mime = form.get('message')?.[0];
      if (mime === undefined) throw new ApiRejection(400, 'message parameter is missing');
      const raw = typeof mime === 'string' ? Buffer.from(mime, 'utf8') : Buffer.from(await mime.arrayBuffer());
      if (raw.length === 0) throw new ApiRejection(400, 'message parameter is empty');
      const { fields } = readHeaderBlock(raw);
      const from = parseAddresses(fields.find((f) => f.key === 'from')?.value)[0]?.address ?? '';
      const message = checkSize({ raw, mailFrom: from, rcptTo: [...new Set(to.map((a) => a.address))] });
      return answer(request.params.domain, await capture.store(message, inbox, key, request));
    },
  );
}
