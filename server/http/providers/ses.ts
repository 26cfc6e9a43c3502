// Amazon SES on /ses, both APIs the AWS SDK v3 speaks there:
// - SES v2 SendEmail (POST /ses/v2/email/outbound-emails, REST-JSON): Simple, Raw and Template
//   content; { MessageId }; errors as { message } with X-Amzn-ErrorType naming the exception.
// - SES v1 SendEmail, SendRawEmail and SendTemplatedEmail (POST /ses/, the query protocol: a
//   URL-encoded form with Action=...); XML answers and <ErrorResponse> errors.
// Raw messages are stored byte for byte. The access key id (from the SigV4 Authorization header)
// chooses the inbox; signatures are not checked (Mailpen has no secret keys).
// Point either client here with new SESv2Client({ endpoint: 'http://127.0.0.1:8025/ses', ... }).
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { App, AppDeps } from '../app.js';
import type { Address } from '../../store/types.js';
import { readHeaderBlock, parseAddresses } from '../../mail/headers.js';
import {
  ApiRejection, Capture, DELIVERY_ONLY, addressesOf, answerErrorsAs, badAddress, encodedBodyLimit, inboxForKey,
  type BuiltMessage, type ErrorFormat, type MailAttachment, type OutgoingMail,
} from './capture.js';

/** SES's documented limits: recipients per message, message size (v2, and v1 since 2021). */
const MAX_RECIPIENTS = 50;
const MAX_MESSAGE_SIZE = 40 * 1024 * 1024;
const XML_NAMESPACE = 'http://ses.amazonaws.com/doc/2010-12-01/';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The exception names the SDKs map to their own error classes. */
const badRequest = (v2: boolean, message: string): ApiRejection => new ApiRejection(400, message, v2 ? 'BadRequestException' : 'InvalidParameterValue');
const rejected = (message: string): ApiRejection => new ApiRejection(400, message, 'MessageRejected');

function checkedAddresses(values: unknown, field: string, v2: boolean): Address[] {
  if (values === undefined || values === null) return [];
  if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) throw badRequest(v2, `${field} must be a list of addresses`);
  const addresses = addressesOf(values as string[]);
  const bad = badAddress(addresses);
  if (bad !== null) throw badRequest(v2, `Illegal address in ${field}: ${bad.slice(0, 200)}`);
  return addresses;
}

/** What both APIs say about recipients, the same way. */
function checkRecipients(count: number, v2: boolean, limit: number): void {
  if (count === 0) throw badRequest(v2, 'At least one recipient is required (ToAddresses, CcAddresses or BccAddresses)');
  if (count > limit) throw badRequest(v2, `Recipient count exceeds ${limit}.`);
}

/** The envelope of a raw message: the given destinations, else its To, Cc and Bcc; the source, else From. */
function rawEnvelope(raw: Buffer, source: string | undefined, destinations: Address[]): { mailFrom: string; rcptTo: string[] } {
  const { fields } = readHeaderBlock(raw);
  const all = (key: string): string[] => fields.filter((f) => f.key === key).flatMap((f) => parseAddresses(f.value).map((a) => a.address));
  const rcptTo = destinations.length > 0 ? destinations.map((a) => a.address) : [...all('to'), ...all('cc'), ...all('bcc')];
  const from = source ? (parseAddresses(source)[0]?.address ?? source) : (all('from')[0] ?? '');
  return { mailFrom: from, rcptTo: [...new Set(rcptTo.filter((a) => a !== ''))] };
}

function decodeBase64(value: unknown, field: string, v2: boolean): Buffer {
  if (typeof value !== 'string' || value === '') throw badRequest(v2, `${field} is required`);
  const raw = Buffer.from(value, 'base64');
  if (raw.length === 0) throw badRequest(v2, `${field} must be base64`);
  return raw;
}

function attachmentsV2(value: unknown): MailAttachment[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw badRequest(true, 'Attachments must be a list');
  return value.map((a: unknown) => {
    if (!isObject(a) || typeof a.FileName !== 'string' || a.FileName === '') throw badRequest(true, 'Each attachment needs a FileName');
    const inline = a.ContentDisposition === 'INLINE';
    return { filename: a.FileName, content: decodeBase64(a.RawContent, 'Attachment RawContent', true), contentType: text(a.ContentType), cid: text(a.ContentId), inline };
  });
}

function headersV2(value: unknown): OutgoingMail['headers'] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw badRequest(true, 'Headers must be a list');
  return value.map((h: unknown) => {
    if (!isObject(h) || typeof h.Name !== 'string' || typeof h.Value !== 'string') throw badRequest(true, 'Each header needs a Name and a Value');
    return { key: h.Name, value: h.Value };
  });
}

/** The access key id of a SigV4 Authorization header: "AWS4-HMAC-SHA256 Credential=AKID/date/region/ses/aws4_request, ...". */
function accessKeyId(request: FastifyRequest): string | null {
  const m = /Credential=([^/,\s]+)\//.exec(request.headers.authorization ?? '');
  return m ? m[1]! : null;
}

const xmlEscape = (s: string): string => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

export async function sesRoutes(app: App, deps: AppDeps): Promise<void> {
  const capture = new Capture(deps, 'ses');
  const limit = capture.recipientLimit(MAX_RECIPIENTS);
  answerErrorsAs(
    app,
    (r, request): ReturnType<ErrorFormat> => {
      // Too large is SES's MessageRejected (400), as it says; fastify's own errors get an SES name.
      const status = r.statusCode === 413 ? 400 : r.statusCode;
      const name = typeof r.code === 'string' && r.code !== '' ? r.code
        : r.statusCode === 413 ? 'MessageRejected' : status === 403 ? 'UnrecognizedClientException' : status === 501 ? 'NotImplemented' : status === 503 ? 'ServiceUnavailable' : status >= 500 ? 'InternalFailure' : 'BadRequestException';
      const requestId = randomUUID();
      // SES v2 is REST-JSON under /v2/; everything else here is v1's query protocol, answered in XML.
      if (!request.url.startsWith('/ses/v2/')) {
        const xml = `<ErrorResponse xmlns="${XML_NAMESPACE}"><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${name}</Code><Message>${xmlEscape(r.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
        return { body: xml, status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId } };
      }
      return { body: { message: r.message }, status, headers: { 'x-amzn-errortype': name, 'x-amzn-requestid': requestId } };
    },
    DELIVERY_ONLY,
  );
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, new URLSearchParams(body as string)));
  const keyInbox = (request: FastifyRequest, v2: boolean): { key: string; inbox: string } => {
    const key = accessKeyId(request);
    const chosen = inboxForKey(key, deps);
    if ('refused' in chosen) {
      throw new ApiRejection(403, `The security token included in the request is invalid. (Mailpen: ${chosen.refused})`, v2 ? 'UnrecognizedClientException' : 'InvalidClientTokenId');
    }
    return { key: key!, inbox: chosen.inbox };
  };
  const size = (message: BuiltMessage): BuiltMessage => {
    if (message.raw.length > MAX_MESSAGE_SIZE) throw rejected(`Message length is more than ${MAX_MESSAGE_SIZE} bytes long`);
    return message;
  };
  const options = { bodyLimit: encodedBodyLimit(Math.max(MAX_MESSAGE_SIZE, deps.config.maxMessageSize)) };

  app.post('/v2/email/outbound-emails', { ...options, schema: { summary: 'Amazon SES v2 SendEmail (Simple, Raw or Template content)', tags: ['provider APIs'] } }, async (request) => {
    const { key, inbox } = keyInbox(request, true);
    const body = request.body;
    if (!isObject(body) || !isObject(body.Content)) throw badRequest(true, 'Content is required');
    const destination = isObject(body.Destination) ? body.Destination : {};
    const to = checkedAddresses(destination.ToAddresses, 'ToAddresses', true);
    const cc = checkedAddresses(destination.CcAddresses, 'CcAddresses', true);
    const bcc = checkedAddresses(destination.BccAddresses, 'BccAddresses', true);
    const { Simple: simple, Raw: raw, Template: template } = body.Content;
    if (isObject(raw)) {
      const bytes = decodeBase64(raw.Data, 'Content.Raw.Data', true);
      const envelope = rawEnvelope(bytes, text(body.FromEmailAddress), [...to, ...cc, ...bcc]);
      checkRecipients(envelope.rcptTo.length, true, limit);
      return { MessageId: await capture.store(size({ raw: bytes, ...envelope }), inbox, key, request) };
    }
    checkRecipients(to.length + cc.length + bcc.length, true, limit);
    const from = addressesOf(text(body.FromEmailAddress));
    if (from.length !== 1 || badAddress(from) !== null) throw badRequest(true, 'FromEmailAddress is required and must be an address');
    const mail: OutgoingMail = { from: from[0]!, to, cc, bcc, replyTo: checkedAddresses(body.ReplyToAddresses, 'ReplyToAddresses', true), subject: '', headers: [], attachments: [] };
    if (isObject(simple)) {
      if (!isObject(simple.Subject) || typeof simple.Subject.Data !== 'string') throw badRequest(true, 'Content.Simple.Subject.Data is required');
      const bodyParts = isObject(simple.Body) ? simple.Body : {};
      mail.subject = simple.Subject.Data;
      mail.text = isObject(bodyParts.Text) ? text(bodyParts.Text.Data) : undefined;
      mail.html = isObject(bodyParts.Html) ? text(bodyParts.Html.Data) : undefined;
      if (!mail.text && !mail.html) throw badRequest(true, 'Content.Simple.Body needs Text or Html');
      mail.headers = headersV2(simple.Headers);
      mail.attachments = attachmentsV2(simple.Attachments);
    } else if (isObject(template)) {
      const name = template.TemplateName ?? template.TemplateArn;
      if (typeof name !== 'string') throw badRequest(true, 'Content.Template needs a TemplateName or TemplateArn');
      // SES renders the template from data Mailpen does not have: kept as given, as the text body.
      const which = template.TemplateName !== undefined ? 'TemplateName' : 'TemplateArn';
      mail.text = JSON.stringify({ [which]: name, TemplateData: template.TemplateData ?? null }, null, 2);
      mail.headers = headersV2(template.Headers);
      mail.attachments = attachmentsV2(template.Attachments);
    } else {
      throw badRequest(true, 'Content needs Simple, Raw or Template');
    }
    return { MessageId: await capture.store(size(await capture.build(mail)), inbox, key, request) };
  });

  // SES v1, the query protocol: one path, the operation in Action.
  app.post('/', { ...options, schema: { summary: 'Amazon SES v1 (query protocol): SendEmail, SendRawEmail, SendTemplatedEmail', tags: ['provider APIs'] } }, async (request, reply) => {
    const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
    const action = form.get('Action') ?? '';
    const { key, inbox } = keyInbox(request, false);
    const members = (prefix: string): string[] => {
      const out: string[] = [];
      for (let i = 1; form.has(`${prefix}.member.${i}`); i++) out.push(form.get(`${prefix}.member.${i}`)!);
      return out;
    };
    let stored: BuiltMessage;
    if (action === 'SendRawEmail') {
      const bytes = decodeBase64(form.get('RawMessage.Data'), 'RawMessage.Data', false);
      const envelope = rawEnvelope(bytes, form.get('Source') ?? undefined, checkedAddresses(members('Destinations'), 'Destinations', false));
      checkRecipients(envelope.rcptTo.length, false, limit);
      stored = size({ raw: bytes, ...envelope });
    } else if (action === 'SendEmail' || action === 'SendTemplatedEmail') {
      const to = checkedAddresses(members('Destination.ToAddresses'), 'ToAddresses', false);
      const cc = checkedAddresses(members('Destination.CcAddresses'), 'CcAddresses', false);
      const bcc = checkedAddresses(members('Destination.BccAddresses'), 'BccAddresses', false);
      checkRecipients(to.length + cc.length + bcc.length, false, limit);
      const from = addressesOf(form.get('Source'));
      if (from.length !== 1 || badAddress(from) !== null) throw badRequest(false, 'Source is required and must be an address');
      const mail: OutgoingMail = { from: from[0]!, to, cc, bcc, replyTo: checkedAddresses(members('ReplyToAddresses'), 'ReplyToAddresses', false), subject: '', headers: [], attachments: [] };
      if (action === 'SendEmail') {
        const subject = form.get('Message.Subject.Data');
        if (subject === null) throw new ApiRejection(400, 'Message.Subject.Data is required', 'MissingParameter');
        mail.subject = subject;
        mail.text = form.get('Message.Body.Text.Data') ?? undefined;
        mail.html = form.get('Message.Body.Html.Data') ?? undefined;
        if (!mail.text && !mail.html) throw badRequest(false, 'Message.Body needs Text or Html');
      } else {
        const template = form.get('Template') ?? form.get('TemplateArn');
        if (template === null) throw new ApiRejection(400, 'Template is required', 'MissingParameter');
        mail.text = JSON.stringify({ Template: template, TemplateData: form.get('TemplateData') }, null, 2);
      }
      stored = size(await capture.build(mail));
    } else {
      throw new ApiRejection(501, `Action ${action.slice(0, 100) || '(none)'} is not emulated by Mailpen: ${DELIVERY_ONLY}`, 'NotImplemented');
    }
    const id = await capture.store(stored, inbox, key, request);
    const xml = `<${action}Response xmlns="${XML_NAMESPACE}"><${action}Result><MessageId>${xmlEscape(id)}</MessageId></${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
    return reply.type('text/xml').send(xml);
  });
}

