// The shared real-world corpus (../shared/corpus, see its README): every single-message file,
// and every message of the mbox files split on their "From " lines.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
export const CORPUS_DIR = [resolve(here, '../../../shared/corpus'), resolve(process.cwd(), '../shared/corpus')].find((d) => existsSync(d)) ?? resolve(here, '../../../shared/corpus');

export interface CorpusMessage {
  /** Path under the corpus, with #n for the n-th message of an mbox. */
  name: string;
  raw: Buffer;
}

/** Splits an mbox on lines starting "From " that follow a blank line (or start the file). */
export function splitMbox(mbox: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  const starts: number[] = [];
  const isFromLine = (i: number): boolean => mbox.subarray(i, i + 5).toString('latin1') === 'From ';
  if (isFromLine(0)) starts.push(0);
  for (let i = mbox.indexOf(0x0a); i >= 0; i = mbox.indexOf(0x0a, i + 1)) {
    if (isFromLine(i + 1)) starts.push(i + 1);
  }
  for (let k = 0; k < starts.length; k++) {
    const s = starts[k]!;
    const e = k + 1 < starts.length ? starts[k + 1]! : mbox.length;
    // Drop the "From " separator line itself: it is mbox framing, not part of the message.
    const body = mbox.subarray(mbox.indexOf(0x0a, s) + 1, e);
    if (body.length > 0) messages.push(body);
  }
  return messages;
}

export function loadCorpus(): CorpusMessage[] {
  const out: CorpusMessage[] = [];
  for (const folder of readdirSync(CORPUS_DIR).sort()) {
    const dir = join(CORPUS_DIR, folder);
    if (!statSync(dir).isDirectory()) continue;
    for (const file of readdirSync(dir).sort()) {
      const raw = readFileSync(join(dir, file));
      if (folder === 'mbox') {
        splitMbox(raw).forEach((m, i) => out.push({ name: `mbox/${file}#${i + 1}`, raw: m }));
      } else {
        out.push({ name: `${folder}/${file}`, raw });
      }
    }
  }
  return out;
}
