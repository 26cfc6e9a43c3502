// The tags of an HTML document, read with htmlparser2's tokenizer: each start tag with its
// attributes and offset, the text of each <style>, comments and the doctype. Not htmlparser2's
// Parser: it keeps the open elements in an array it unshifts and searches, so a message of 100,000
// unclosed <div>s took it 46 s (quadratic); the tokenizer is a state machine, linear in the input,
// and the checks need no tree. Like a browser's, it reads <style>, <script>, <title> and
// <textarea> contents as text, not tags.
import { Tokenizer, QuoteType } from 'htmlparser2';

export interface TagHandlers {
  /** A start tag. Names are lower-case; of a repeated attribute the first is kept, as browsers do. */
  tag?(name: string, attribs: Readonly<Record<string, string>>, offset: number): void;
  /** The text of a <style> element, and where it starts. */
  style?(css: string, offset: number): void;
  comment?(offset: number): void;
  /** `<!DOCTYPE html>` and the like: the declaration without "<!" and ">". */
  declaration?(value: string, offset: number): void;
}

/** Throws what `onDeadline` returns once Date.now() passes `deadline` (looked at every 1,024 tags). */
export function readTags(html: string, handlers: TagHandlers, deadline = Infinity, onDeadline: () => Error = () => new Error('deadline')): void {
  let name = '';
  let tagStart = 0;
  let attribs: Record<string, string> = Object.create(null) as Record<string, string>;
  let attribName = '';
  let attribValue = '';
  let inStyle = false;
  let styleText = '';
  let styleStart = -1;
  let tags = 0;

  const tokenizer = new Tokenizer(
    { decodeEntities: true },
    {
      onopentagname(start, end) {
        if ((++tags & 0x3ff) === 0 && Date.now() > deadline) throw onDeadline();
        name = html.slice(start, end).toLowerCase();
        tagStart = start - 1;
        attribs = Object.create(null) as Record<string, string>;
      },
      onattribname(start, end) {
        attribName = html.slice(start, end).toLowerCase();
        attribValue = '';
      },
      onattribdata(start, end) {
        attribValue += html.slice(start, end);
      },
      onattribentity(codepoint) {
        attribValue += String.fromCodePoint(codepoint);
      },
      onattribend(_quote: QuoteType) {
        if (!(attribName in attribs)) attribs[attribName] = attribValue;
        attribValue = '';
      },
      onopentagend() {
        handlers.tag?.(name, attribs, tagStart);
        if (name === 'style') {
          inStyle = true;
          styleText = '';
          styleStart = -1;
        }
      },
      onselfclosingtag() {
        handlers.tag?.(name, attribs, tagStart);
      },
      onclosetag(start, end) {
        if (inStyle && html.slice(start, end).toLowerCase() === 'style') {
          inStyle = false;
          if (styleStart >= 0) handlers.style?.(styleText, styleStart);
        }
      },
      ontext(start, end) {
        if (!inStyle) return;
        if (styleStart < 0) styleStart = start;
        styleText += html.slice(start, end);
      },
      ontextentity(codepoint) {
        if (inStyle) styleText += String.fromCodePoint(codepoint);
      },
      oncomment(start) {
        handlers.comment?.(start - 4);
      },
      oncdata() {},
      ondeclaration(start, end) {
        handlers.declaration?.(html.slice(start, end), start - 2);
      },
      onprocessinginstruction() {},
      onend() {
        // An unclosed <style> runs to the end of the document, as in a browser.
        if (inStyle && styleStart >= 0) handlers.style?.(styleText, styleStart);
      },
    },
  );
  tokenizer.write(html);
  tokenizer.end();
}
