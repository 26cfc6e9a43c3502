// Content-Disposition with a filename taken from a message (RFC 6266 and RFC 8187): an ASCII
// fallback in `filename`, the exact name in `filename*`. The name is only ever a suggestion to
// the browser: the server never writes a file named by mail.

export function contentDisposition(type: 'inline' | 'attachment', filename: string): string {
  // Path separators and control characters have no place in a suggested name.
  const clean =
    filename
      .replace(/[\u0000-\u001f\u007f/\\]/g, '_')
      // A lone surrogate cannot be percent-encoded (encodeURIComponent throws on it).
      .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '_')
      .trim()
      .slice(0, 255) || 'download';
  const ascii = clean.replace(/[^\x20-\x7e]/g, '_').replace(/["%]/g, '_');
  const encoded = encodeURIComponent(clean).replace(/['()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return ascii === clean ? `${type}; filename="${ascii}"` : `${type}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
