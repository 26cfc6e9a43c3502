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
  return `${doctype}<base target="_blank">${html.slice(doctype.length)}`;
}

const HREF = /<(?:a|area)\b[^>]*?\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/gi;
const TEXT_URL = /\bhttps?:\/\/[^\s<>"'`]+/gi;
/** Schemes a test would follow; javascript:, data: and relative references are not links out of a mail. */
const LINK_SCHEME = /^(https?|mailto|ftp|tel):/i;

/** HTML hrefs in document order, then URLs in the text, each once. */
export function extractLinks(html: string | null, text: string | null): string[] {
  const links = new Set<string>();
  if (html !== null) {
    for (const m of html.matchAll(HREF)) {
      const value = decodeEntities(m[1] ?? m[2] ?? m[3] ?? '').trim();
      if (LINK_SCHEME.test(value)) links.add(value);
    }
  }
  if (text !== null) {
    for (const m of text.matchAll(TEXT_URL)) links.add(trimTrailingPunctuation(m[0]));
  }
  return [...links];
}

function decodeEntities(value: string): string {
  try {
    return he.decode(value);
  } catch {
    return value;
  }
}

/** "see https://x.test/a." ends the sentence, not the URL; a ")" closes a URL only if it opened one. */
function trimTrailingPunctuation(url: string): string {
  let end = url.length;
  for (;;) {
    const c = url[end - 1];
    if (c === undefined) break;
    if ('.,;:!?\'"]'.includes(c)) {
      end--;
      continue;
    }
    if (c === ')') {
      const s = url.slice(0, end);
      if ((s.match(/\(/g)?.length ?? 0) < (s.match(/\)/g)?.length ?? 0)) {
        end--;
        continue;
      }
    }
    break;
  }
  return url.slice(0, end);
}
