// What the API does with a message's HTML and text as strings: rewrite cid: references to
// URLs the server can answer, and list the links. Never fetches anything.
import he from 'he';
import type { MessagePart } from './parse.js';

/** Replaces `cid:` references to the message's own parts; references to nothing are left as they are. */
export function rewriteCidReferences(html: string, parts: readonly MessagePart[], partUrl: (partId: string) => string): string {
  const byCid = new Map<string, string>();
  for (const p of parts) if (p.contentId) byCid.set(p.contentId.toLowerCase(), p.partId);
  if (byCid.size === 0) return html;
  return html.replace(/cid:([^"'\s)>]+)/gi, (whole, ref: string) => {
    let cid = ref;
    try {
      cid = decodeURIComponent(ref);
    } catch {
      // RFC 2392 says URL-encoded; a bare % in the wild is read as written.
    }
    const partId = byCid.get(cid.replace(/^<|>$/g, '').toLowerCase());
    return partId === undefined ? whole : partUrl(partId);
  });
}

const DOCTYPE = /^\uFEFF?\s*<!doctype[^>]*>/i;

/**
 * Makes every link in the document open a new tab (`<base target="_blank">`): inside the UI's
 * sandboxed frame a plain link would otherwise replace the message with the linked page.
 * Placed after any doctype, which must stay first or the page renders in quirks mode.
 */
export function linksInNewTab(html: string): string {
  const doctype = DOCTYPE.exec(html)?.[0] ?? '';
  return `${doctype}<base target="_blank">${retargetLinks(html.slice(doctype.length))}`;
}

const TARGET_ATTR = /(\s)target\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)/gi;

/**
 * An explicit target on a link beats <base>: `target="_self"` would load the linked page into the
 * sandboxed frame (which the UI's CSP refuses, leaving an error page), `_parent`/`_top` try to
 * leave it. Every <a>/<area> target becomes `_blank`. One pass: each tag is cut at its ">", and
 * a document with no ">" after an "<a" has no more tags to rewrite.
 */
export function retargetLinks(html: string): string {
  let out = '';
  let pos = 0;
  for (;;) {
    LINK_OPEN.lastIndex = pos;
    const open = LINK_OPEN.exec(html);
    if (!open) break;
    const close = html.indexOf('>', LINK_OPEN.lastIndex);
    if (close < 0) break;
    const tag = html.slice(open.index, close);
    out += html.slice(pos, open.index) + tag.replace(TARGET_ATTR, '$1target="_blank"');
    pos = close;
  }
  return out + html.slice(pos);
}

const TEXT_URL = /\bhttps?:\/\/[^\s<>"'`]+/gi;
/** Schemes a test would follow; javascript:, data: and relative references are not links out of a mail. */
const LINK_SCHEME = /^(https?|mailto|ftp|tel):/i;

/** HTML hrefs in document order, then URLs in the text, each once. */
export function extractLinks(html: string | null, text: string | null): string[] {
  const links = new Set<string>();
  if (html !== null) {
    for (const href of hrefs(html)) {
      const value = decodeEntities(href).trim();
      if (LINK_SCHEME.test(value)) links.add(value);
    }
  }
  if (text !== null) {
    for (const m of text.matchAll(TEXT_URL)) links.add(trimTrailingPunctuation(m[0]));
  }
  return [...links];
}

const LINK_OPEN = /<(?:a|area)\b/gi;
const HREF_NAME = /\shref\s*=\s*/gi;
const UNQUOTED = /[^\s"'>]+/y;

/**
 * A search for `find` forward through one string, for callers whose starting points only move
 * forward: an answer found from `from` is the answer from any start up to it, and "none" from
 * `from` is the answer from any later start. So a scan that asks again from every "<a" (100,000
 * of them with no ">" after them: 1.65 s of the event loop for 2 MB) reads the string once.
 */
function forwardSearch(find: (from: number) => number): (from: number) => number {
  let askedFrom = -1;
  let found = -1;
  return (from) => {
    if (askedFrom >= 0 && from >= askedFrom && (found < 0 || from <= found)) return found;
    askedFrom = from;
    found = find(from);
    return found;
  };
}

/**
 * The href values of <a> and <area> tags, in order: what
 * `/<(?:a|area)\b[^>]*?\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/gi` matches, in one pass.
 * That expression rescans to the end of the document from every "<a" that has no href before
 * its ">" (20,000 of them took it 0.4 s, a megabyte would take minutes). Here every search
 * (the tag's ">", an href, a closing quote) moves forward only and remembers its last answer,
 * so the document is read a bounded number of times whatever it holds.
 */
export function hrefs(html: string): string[] {
  const out: string[] = [];
  const nextGt = forwardSearch((from) => html.indexOf('>', from));
  const nextQuote = { '"': forwardSearch((from) => html.indexOf('"', from)), "'": forwardSearch((from) => html.indexOf("'", from)) };
  const nextHref = forwardSearch((from) => {
    HREF_NAME.lastIndex = from;
    return HREF_NAME.exec(html)?.index ?? -1;
  });
  let pos = 0;
  for (;;) {
    LINK_OPEN.lastIndex = pos;
    const open = LINK_OPEN.exec(html);
    if (!open) break;
    const tagFrom = LINK_OPEN.lastIndex;
    const gt = nextGt(tagFrom);
    const tagEnd = gt < 0 ? html.length : gt;
    let next = -1;
    for (let h = nextHref(tagFrom); h >= 0 && h < tagEnd; h = nextHref(h + 1)) {
      HREF_NAME.lastIndex = h;
      const at = h + HREF_NAME.exec(html)![0].length;
      const c = html[at];
      if (c === '"' || c === "'") {
        const close = nextQuote[c](at + 1);
        if (close >= 0) {
          out.push(html.slice(at + 1, close));
          next = close + 1;
          break;
        }
      } else {
        UNQUOTED.lastIndex = at;
        const value = UNQUOTED.exec(html);
        if (value) {
          out.push(value[0]);
          next = at + value[0].length;
          break;
        }
      }
    }
    if (next >= 0) pos = next;
    else if (gt < 0) break;
    else pos = tagEnd;
  }
  return out;
}

function decodeEntities(value: string): string {
  try {
    return he.decode(value);
  } catch {
    return value;
  }
}

/**
 * "see https://x.test/a." ends the sentence, not the URL; a ")" closes a URL only if it opened one.
 * The parentheses are counted once and kept up to date as characters come off the end (counting
 * them again for each one took 6 s for a URL followed by 20,000 ")").
 */
export function trimTrailingPunctuation(url: string): string {
  let opens = 0;
  let closes = 0;
  for (let i = 0; i < url.length; i++) {
    if (url[i] === '(') opens++;
    else if (url[i] === ')') closes++;
  }
  let end = url.length;
  for (;;) {
    const c = url[end - 1];
    if (c === undefined) break;
    if ('.,;:!?\'"]'.includes(c)) {
      end--;
      continue;
    }
    if (c === ')' && opens < closes) {
      closes--;
      end--;
      continue;
    }
    break;
  }
  return url.slice(0, end);
}
