// A message's HTML laid out to read: one tag per line, indented by nesting. For the eye only (the
// Source tab), never rendered: the text is put in the page as text. One pass over the input,
// linear in its size (mail HTML is hostile: 100,000 unclosed tags cost 100,000 steps).

/** Elements that never have a closing tag, so they do not indent what follows. */
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
/** Whose content is kept as it is (code, or text where spaces count). */
const RAW = new Set(['script', 'style', 'pre', 'textarea']);
const MAX_DEPTH = 40;
const INDENT = '  ';

export function prettyHtml(html: string): string {
  const out: string[] = [];
  let depth = 0;
  let i = 0;
  const n = html.length;
  const line = (text: string): void => {
    out.push(INDENT.repeat(Math.min(depth, MAX_DEPTH)) + text);
  };
  while (i < n) {
    const lt = html.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const text = html.slice(i, textEnd).replace(/\s+/g, ' ').trim();
      if (text !== '') line(text);
      i = textEnd;
      if (lt < 0) break;
    }
    // A comment runs to -->, a tag to >.
    const comment = html.startsWith('<!--', i);
    const close = comment ? html.indexOf('-->', i + 4) : html.indexOf('>', i + 1);
    const end = close < 0 ? n : close + (comment ? 3 : 1);
    const tag = html.slice(i, end);
    i = end;
    if (comment || tag.startsWith('<!')) {
      line(tag);
      continue;
    }
    const name = /^<\/?\s*([a-zA-Z][\w:-]*)/.exec(tag)?.[1]?.toLowerCase() ?? '';
    if (tag.startsWith('</')) {
      depth = Math.max(0, depth - 1);
      line(tag);
      continue;
    }
    line(tag);
    if (RAW.has(name)) {
      // Its content as written, up to its own closing tag (searched once, from here).
      const find = new RegExp(`</${name}`, 'gi');
      find.lastIndex = i;
      const stop = find.exec(html)?.index ?? n;
      const body = html.slice(i, stop).trim();
      if (body !== '') line(`${INDENT}${body.replace(/\n/g, `\n${INDENT.repeat(Math.min(depth, MAX_DEPTH) + 1)}`)}`);
      i = stop;
      continue;
    }
    if (!VOID.has(name) && !tag.endsWith('/>') && name !== '') depth++;
  }
  return out.join('\n');
}
