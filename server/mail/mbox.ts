// Splitting an mbox file into messages, for the upload endpoint.

/** Whether a body looks like an mbox file rather than one message: it starts with a "From " line. */
export function looksLikeMbox(data: Buffer): boolean {
  return data.subarray(0, 5).toString('latin1') === 'From ';
}

/**
 * The messages of an mbox: split on "From " lines at the start of the file or after a line
 * break, the separator line dropped, and one level of ">From " quoting undone (mboxrd; in mboxo
 * it is the same guess a reader has to make).
 */
export function splitMbox(mbox: Buffer): Buffer[] {
  const starts: number[] = [];
  const isFromLine = (i: number): boolean => mbox[i] === 0x46 && mbox.subarray(i, i + 5).toString('latin1') === 'From ';
  if (isFromLine(0)) starts.push(0);
  for (let i = mbox.indexOf(0x0a); i >= 0; i = mbox.indexOf(0x0a, i + 1)) {
    if (isFromLine(i + 1)) starts.push(i + 1);
  }
  const messages: Buffer[] = [];
  for (let k = 0; k < starts.length; k++) {
    const lineEnd = mbox.indexOf(0x0a, starts[k]!);
    if (lineEnd < 0) continue;
    const end = k + 1 < starts.length ? starts[k + 1]! : mbox.length;
    const body = unquoteFromLines(mbox.subarray(lineEnd + 1, end));
    if (body.length > 0) messages.push(body);
  }
  return messages;
}

function unquoteFromLines(message: Buffer): Buffer {
  if (message.indexOf('>From ') < 0) return message;
  const text = message.toString('latin1').replace(/(^|\n)>(>*From )/g, '$1$2');
  return Buffer.from(text, 'latin1');
}
