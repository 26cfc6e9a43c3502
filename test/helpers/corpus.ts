// The real-world corpus: the set kept in the repository (test/fixtures/corpus, see its README), always,
// plus the rest of the full shared corpus (../shared/corpus) when it sits beside the repository, as in CI.
// Every single-message file, and every message of the mbox files split on their "From " lines.
// MAILPEN_TEST_CORPUS=repo reads the in-repo set alone, as a plain clone does.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
export const REPO_CORPUS_DIR = resolve(here, '../fixtures/corpus');
/** The full shared corpus, or null where it is absent (a plain clone). */
export const SHARED_CORPUS_DIR: string | null =
  process.env.MAILPEN_TEST_CORPUS === 'repo'
    ? null
    : ([resolve(here, '../../../shared/corpus'), resolve(process.cwd(), '../shared/corpus')].find((d) => existsSync(d)) ?? null);

/**
 * Messages loadCorpus() gives: the in-repo set 441 (426 files and the 15 messages of its mbox files), the full
 * corpus 499 (455 files and 44 mbox messages), the in-repo ones among them.
 */
export const CORPUS_MIN_MESSAGES = SHARED_CORPUS_DIR ? 499 : 441;

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
  // name ("folder/file") -> path; the in-repo copy of a file wins (the two are the same bytes).
  const files = new Map<string, string>();
  for (const root of [REPO_CORPUS_DIR, SHARED_CORPUS_DIR]) {
    if (root === null) continue;
    for (const folder of readdirSync(root)) {
      const dir = join(root, folder);
      if (!statSync(dir).isDirectory()) continue;
      for (const file of readdirSync(dir)) if (!files.has(`${folder}/${file}`)) files.set(`${folder}/${file}`, join(dir, file));
    }
  }
  const out: CorpusMessage[] = [];
  // Folder by folder, file by file, as the full corpus was always read.
  const byPath = (a: string, b: string): number => {
    const [fa, ia] = [a.slice(0, a.indexOf('/')), a.slice(a.indexOf('/') + 1)];
    const [fb, ib] = [b.slice(0, b.indexOf('/')), b.slice(b.indexOf('/') + 1)];
    return fa === fb ? (ia < ib ? -1 : ia > ib ? 1 : 0) : fa < fb ? -1 : 1;
  };
  for (const name of [...files.keys()].sort(byPath)) {
    const raw = readFileSync(files.get(name)!);
    if (name.startsWith('mbox/')) {
      splitMbox(raw).forEach((m, i) => out.push({ name: `${name}#${i + 1}`, raw: m }));
    } else {
      out.push({ name, raw });
    }
  }
  return out;
}
