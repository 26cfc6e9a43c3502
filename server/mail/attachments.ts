// What counts as an attachment: one rule for the list's count and `has:attachment` (the body scan,
// server/mail/scan.ts) and for the parts the message view marks `attachment` (the full parse,
// server/mail/full-parse.ts). The two read MIME with different code, and disagreed on 45 of the 499
// corpus messages before they shared this (an iPhone photo counted in the list, absent in the view).
//
// The rule is what a reader of the message sees as a file, not as the message itself:
//   - body text is not an attachment: a text/plain, text/html or message/delivery-status leaf whose
//     disposition is absent or inline (what mailparser reads into the message's text and HTML);
//   - a part of the HTML is not an attachment: a part with a Content-ID inside a multipart/related
//     (an image its HTML shows by cid:), unless its disposition says attachment;
//   - every other leaf is one: a named file, an inline photo with no HTML to show it, a calendar
//     invite, an attached message (message/rfc822 not marked inline), a signature.

/** The leaf types mailparser takes as body text when not marked as an attachment. */
const BODY_TYPES = new Set(['text/plain', 'text/html', 'message/delivery-status']);

/** A leaf part's body text: its type is one of the body types and its disposition absent or inline. */
export function isBodyText(type: string, disposition: string): boolean {
  return BODY_TYPES.has(type) && (disposition === '' || disposition === 'inline');
}

/** A non-body part that the HTML beside it shows (by cid:), so the reader never sees it as a file. */
export function isPartOfHtml(hasContentId: boolean, insideRelated: boolean, disposition: string): boolean {
  return hasContentId && insideRelated && disposition !== 'attachment';
}

/**
 * Whether an inline message/rfc822 is read as part of the message (its text joins the body, its
 * files count one by one) rather than as one attached file. As mailparser's splitter does: only
 * when marked inline and not transfer-encoded.
 */
export function isEmbeddedMessage(disposition: string, transferEncoding: string): boolean {
  return disposition === 'inline' && ['', '7bit', '8bit', 'binary'].includes(transferEncoding);
}
