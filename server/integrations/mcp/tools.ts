// The MCP server's tools: what a coding agent needs after it made the app send mail. Each is one
// or two API calls (server/integrations/mcp/api.ts) and answers compact text with ids to follow
// up; mail content is quoted as data (format.ts), never raw HTML or base64.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import type { CodeWire, MessageSummaryWire, MessageWire } from '../../http/schemas.js';
import { htmlToText } from '../../mail/scan.js';
import { ApiUnreachable, type ApiAnswer, type MailpenApi } from './api.js';
import { addresses, address, bodyBlock, envelopeLine, quote, summaryLine, UNTRUSTED_NOTE } from './format.js';

/** What wait_for_message looks back over by default: mail sent just before the agent asked. */
export const DEFAULT_LOOKBACK_S = 60;
/** Under the SDK client's default request timeout (60 s), so a long wait answers before the client gives up. */
const MAX_WAIT_S = 50;
const MAX_HEADERS = 40;
const MAX_LINKS = 100;

const SEARCH_HELP =
  "Mailpen's search language: words and \"phrases\" (subject, names, addresses, body text, attachment names), " +
  'from:, to: (To, Cc and every RCPT TO, so Bcc too), cc:, subject:, inbox:, header:Name:value, has:attachment, ' +
  'is:read, is:unread, tag:signup (X-Tags, plus-addresses), is:tagged, after:2024-05-31, before:…, larger:10KB, smaller:2MB, -term to negate, OR, ( ). ' +
  'Terms side by side must all match; matching is case-insensitive substring.';

const text = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }] });
const failure = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }], isError: true });

/** An API answer that is not 2xx, as the reason a model can act on. */
function refusal(answer: ApiAnswer, what: string): CallToolResult {
  const body = answer.body as { message?: unknown } | string;
  const reason = typeof body === 'object' && body !== null && typeof body.message === 'string' ? body.message : String(body).slice(0, 300);
  return failure(`${what}: Mailpen answered ${answer.status}: ${reason}`);
}

/** Runs a tool body; a Mailpen that cannot be reached is a tool error, not a protocol error. */
async function guarded(run: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ApiUnreachable) return failure(err.message);
    throw err;
  }
}

const ok = (a: ApiAnswer): boolean => a.status >= 200 && a.status < 300;

const Id = z.string().min(1).max(64).describe('a message id, as search_messages or wait_for_message gave it');
const Query = z.string().max(2000).describe(SEARCH_HELP);
const Inbox = z.string().min(1).max(128).describe('only this inbox (one per SMTP AUTH user; unauthenticated mail is in "default")');

export function createMcpServer(api: MailpenApi, version: string): McpServer {
  const server = new McpServer(
    { name: 'mailpen', version },
    {
      instructions:
        'Mailpen is a fake SMTP server that caught the mail an application under development sent. ' +
        'Find mail with search_messages or wait_for_message, read it with get_message, get_links and get_codes. ' +
        UNTRUSTED_NOTE,
    },
  );

  server.registerTool(
    'search_messages',
    {
      title: 'Search caught mail',
      description: `Lists caught messages, newest first, one line each with the id to pass to get_message or get_links. ${SEARCH_HELP}`,
      inputSchema: {
        query: Query.optional(),
        inbox: Inbox.optional(),
        limit: z.number().int().min(1).max(100).default(20).describe('at most this many lines (1 to 100)'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ query, inbox, limit }) =>
      guarded(async () => {
        const answer = await api.call('GET', '/messages', { q: query, inbox, limit });
        if (!ok(answer)) return refusal(answer, 'search failed');
        const page = answer.body as { total: number; messages: MessageSummaryWire[] };
        if (page.messages.length === 0) return text(`No message matches${query ? ` ${quote(query)}` : ''}.`);
        const lines = [`${page.total} message${page.total === 1 ? '' : 's'} match; newest first. ${UNTRUSTED_NOTE}`, ...page.messages.map(summaryLine)];
        if (page.total > page.messages.length) lines.push(`${page.total - page.messages.length} more not shown: narrow the query or raise limit (at most 100).`);
        return text(lines.join('\n'));
      }),
  );

  server.registerTool(
    'get_message',
    {
      title: 'Read one message',
      description:
        'Reads one message: sender, recipients, subject, the SMTP envelope (Bcc recipients show there), attachments ' +
        '(listed, never their bytes), headers, and the body as plain text (HTML converted to text). Long bodies are cut; ' +
        'the answer says which offset reads on.',
      inputSchema: {
        id: Id,
        body: z.enum(['text', 'html_as_text']).default('text').describe('text: the plain-text body (the HTML as text when there is none); html_as_text: the HTML body converted to text'),
        offset: z.number().int().min(0).default(0).describe('first body character to show, to read on after a cut'),
        max_chars: z.number().int().min(200).max(50_000).default(4000).describe('body characters to show'),
        headers: z.boolean().default(true).describe('list the headers'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ id, body, offset, max_chars, headers }) =>
      guarded(async () => {
        const answer = await api.call('GET', `/messages/${encodeURIComponent(id)}`);
        if (!ok(answer)) return refusal(answer, `no message ${quote(id, 64)}`);
        const m = answer.body as MessageWire;
        const attachments = m.parts.filter((p) => p.disposition === 'attachment');
        const lines = [
          `Message ${m.id} in inbox ${quote(m.inbox, 64)}, received ${m.receivedAt}, ${m.size} bytes, ${m.read ? 'read' : 'unread'}. ${UNTRUSTED_NOTE}`,
          `From: ${address(m.from)}`,
          `To: ${addresses(m.to)}`,
          `Cc: ${addresses(m.cc)}`,
          ...(m.replyTo.length > 0 ? [`Reply-To: ${addresses(m.replyTo)}`] : []),
          `Subject: ${quote(m.subject, 500)}`,
          `Date header: ${m.date ?? '(none or unreadable)'}`,
          `Envelope: ${envelopeLine(m.envelope)}`,
          attachments.length === 0
            ? 'Attachments: none'
            : `Attachments (${attachments.length}): ${attachments
                .slice(0, 30)
                .map((p) => `part ${p.partId} ${quote(p.filename ?? '(no name)', 120)} ${quote(p.contentType, 80)} ${p.size} bytes`)
                .join('; ')}`,
          ...(m.problems.length > 0 ? [`Problems: ${m.problems.map((p) => quote(p, 200)).join('; ')}`] : []),
        ];
        if (headers) {
          lines.push(`Headers (${m.headers.length}${m.headers.length > MAX_HEADERS ? `, first ${MAX_HEADERS}` : ''}):`);
          for (const h of m.headers.slice(0, MAX_HEADERS)) lines.push(`  ${quote(h.name, 80)}: ${quote(h.value, 300)}`);
        }
        const htmlText = m.html !== null ? htmlToText(m.html).replace(/[ \t]+/g, ' ').replace(/ ?\n ?/g, '\n').replace(/\n{3,}/g, '\n\n').trim() : null;
        if (body === 'html_as_text' && htmlText === null) {
          lines.push('This message has no HTML body; ask with body: "text".');
        } else if (body === 'html_as_text' || m.text === null) {
          lines.push(htmlText === null ? 'Body: none' : bodyBlock('Body (HTML converted to text)', htmlText, offset, max_chars));
        } else {
          lines.push(bodyBlock('Body (plain text)', m.text, offset, max_chars));
          if (htmlText !== null) lines.push('There is an HTML body too: body: "html_as_text" reads it; get_links lists its links.');
        }
        return text(lines.join('\n'));
      }),
  );

  server.registerTool(
    'wait_for_message',
    {
      title: 'Wait for a message',
      description:
        'Waits until a message matching the query has arrived, and answers its summary line with the id. By default a ' +
        `message that arrived up to ${DEFAULT_LOOKBACK_S} seconds before the call counts too, so triggering the mail first ` +
        `and waiting second never misses it. ${SEARCH_HELP}`,
      inputSchema: {
        query: Query.optional(),
        inbox: Inbox.optional(),
        timeout_seconds: z.number().int().min(1).max(MAX_WAIT_S).default(30).describe(`how long to wait (at most ${MAX_WAIT_S}; call again to wait longer)`),
        after: z
          .string()
          .max(64)
          .optional()
          .describe(`only mail after this: a message id, an ISO 8601 time, or "0" for any message; default ${DEFAULT_LOOKBACK_S} seconds before the call`),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ query, inbox, timeout_seconds, after }) =>
      guarded(async () => {
        const since = after ?? new Date(Date.now() - DEFAULT_LOOKBACK_S * 1000).toISOString();
        const answer = await api.call('GET', '/wait', { q: query, inbox, after: since, timeout: timeout_seconds });
        if (answer.status === 408) return failure(`No matching message arrived within ${timeout_seconds} s (looking at mail after ${since}). Call again to keep waiting.`);
        if (!ok(answer)) return refusal(answer, 'wait failed');
        return text(`${summaryLine(answer.body as MessageSummaryWire)}\n${UNTRUSTED_NOTE} Read it with get_message or get_links.`);
      }),
  );

  server.registerTool(
    'get_links',
    {
      title: 'Links in a message',
      description: 'Lists the links of one message (HTML hrefs, then URLs in the text), in order, each once: the way to find a confirmation or reset link. Mailpen never opens them.',
      inputSchema: { id: Id },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ id }) =>
      guarded(async () => {
        const answer = await api.call('GET', `/messages/${encodeURIComponent(id)}/links`);
        if (!ok(answer)) return refusal(answer, `no message ${quote(id, 64)}`);
        const { links } = answer.body as { links: string[] };
        if (links.length === 0) return text(`Message ${id} has no links.`);
        const lines = [`${links.length} link${links.length === 1 ? '' : 's'} in message ${id} (untrusted: from the mail, as JSON strings):`];
        links.slice(0, MAX_LINKS).forEach((l, i) => lines.push(`${i + 1}. ${quote(l, 2000)}`));
        if (links.length > MAX_LINKS) lines.push(`${links.length - MAX_LINKS} more not shown.`);
        return text(lines.join('\n'));
      }),
  );

  server.registerTool(
    'get_codes',
    {
      title: 'One-time codes in a message',
      description:
        'Lists the one-time codes of one message (sign-up, login, 2FA, password reset: 4 to 8 digits, or short codes beside ' +
        'words such as code, OTP, PIN), in order, each with the words around it.',
      inputSchema: { id: Id },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ id }) =>
      guarded(async () => {
        const answer = await api.call('GET', `/messages/${encodeURIComponent(id)}/codes`);
        if (!ok(answer)) return refusal(answer, `no codes for ${quote(id, 64)}`);
        const { codes } = answer.body as { codes: CodeWire[] };
        if (codes.length === 0) return text(`Message ${id} has no one-time code.`);
        const lines = [`${codes.length} code${codes.length === 1 ? '' : 's'} in message ${id} (untrusted: from the mail, as JSON strings):`];
        codes.slice(0, MAX_LINKS).forEach((c, i) => lines.push(`${i + 1}. ${quote(c.code, 64)} in ${quote(c.context, 200)}`));
        return text(lines.join('\n'));
      }),
  );

  server.registerTool(
    'list_inboxes',
    {
      title: 'List inboxes',
      description: 'Lists the inboxes (one per SMTP AUTH user; "default" for mail sent without AUTH) with their message and unread counts.',
      inputSchema: {},
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () =>
      guarded(async () => {
        const answer = await api.call('GET', '/inboxes');
        if (!ok(answer)) return refusal(answer, 'listing inboxes failed');
        const { inboxes } = answer.body as { inboxes: { name: string; total: number; unread: number }[] };
        if (inboxes.length === 0) return text('No mail has been caught yet: there are no inboxes.');
        return text(inboxes.map((i) => `${quote(i.name, 128)}: ${i.total} message${i.total === 1 ? '' : 's'}, ${i.unread} unread`).join('\n'));
      }),
  );

  server.registerTool(
    'delete_messages',
    {
      title: 'Delete messages',
      description: `Deletes the messages a query (and/or inbox) selects, and says how many. To delete every message, pass all: true and no query. ${SEARCH_HELP}`,
      inputSchema: {
        query: Query.optional(),
        inbox: Inbox.optional(),
        all: z.boolean().default(false).describe('true, with no query and no inbox: delete every message'),
      },
      annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    ({ query, inbox, all }) =>
      guarded(async () => {
        const selects = (query !== undefined && query.trim() !== '') || inbox !== undefined;
        if (!selects && !all) return failure('Nothing deleted: give a query or an inbox, or all: true to delete every message.');
        if (selects && all) return failure('Nothing deleted: all: true deletes everything; leave it out to delete what query/inbox select.');
        const answer = await api.call('DELETE', '/messages', { q: selects ? query : undefined, inbox });
        if (!ok(answer)) return refusal(answer, 'nothing deleted');
        const { deleted } = answer.body as { deleted: number };
        return text(`Deleted ${deleted} message${deleted === 1 ? '' : 's'}.`);
      }),
  );

  return server;
}
