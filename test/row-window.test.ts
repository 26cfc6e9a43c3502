// The message list's row window (ui/src/lib/row-window.ts) on its own: runs of loaded rows in a
// list far longer than what is loaded, merged, shifted by arrivals and removals, as the inbox
// page keeps them. No browser: the class has no runes and no I/O.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RowWindow, type Run } from '../ui/src/lib/row-window.js';
import type { MessageSummary } from '../server/store/types.js';

function message(id: string, read = false): MessageSummary {
  return {
    id,
    inbox: 'default',
    receivedAt: '2026-01-01T00:00:00.000Z',
    from: { name: '', address: 'a@example.test' },
    to: [],
    cc: [],
    subject: id,
    date: null,
    size: 10,
    attachments: 0,
    snippet: '',
    read,
    tags: [],
    envelope: { from: 'a@example.test', to: [] },
    problems: [],
  } as unknown as MessageSummary;
}

/** A run of messages named by position: `m5` is row 5 as the list stood when it was loaded. */
function run(start: number, count: number, opts: { next?: string | null; last?: boolean } = {}): Run {
  const messages = Array.from({ length: count }, (_, i) => message(`m${start + i}`));
  return { start, messages, next: opts.next === undefined ? `after-m${start + count - 1}` : opts.next, last: opts.last ?? false };
}

/** The ids at positions from..to-1 ('-' where nothing is loaded). */
function ids(rows: RowWindow, from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => rows.at(from + i)?.id ?? '-');
}

describe('RowWindow', () => {
  test('a first page is one run from row 0; its end is known only when it has no next cursor', () => {
    const open = RowWindow.first({ messages: run(0, 3).messages, next: 'c' });
    assert.deepEqual(ids(open, 0, 4), ['m0', 'm1', 'm2', '-']);
    assert.equal(open.end, null);
    const whole = RowWindow.first({ messages: run(0, 3).messages, next: null });
    assert.equal(whole.end, 3);
    assert.equal(whole.complete, true);
  });

  test('a page far below is a run of its own, and the rows between are missing', () => {
    const rows = RowWindow.first(run(0, 3)).insert(run(100, 3));
    assert.equal(rows.runs.length, 2);
    assert.deepEqual(ids(rows, 99, 104), ['-', 'm100', 'm101', 'm102', '-']);
    assert.deepEqual(rows.missing(0, 200, 103), { from: 3, to: 100 });
    assert.deepEqual(rows.missing(100, 103, 103), null);
    assert.equal(rows.loadedAbove(50), 3);
    assert.equal(rows.startsAt(100), true);
  });

  test('a page that touches or overlaps a run merges with it, the newer rows winning', () => {
    const rows = RowWindow.first(run(0, 3)).insert(run(3, 2, { next: 'n5' }));
    assert.equal(rows.runs.length, 1);
    assert.deepEqual(ids(rows, 0, 5), ['m0', 'm1', 'm2', 'm3', 'm4']);
    assert.equal(rows.runs[0]!.next, 'n5', 'the merged run continues from the later page');
    const fresher = { start: 1, messages: [message('m1', true)], next: 'x', last: false };
    const merged = rows.insert(fresher);
    assert.equal(merged.at(1)!.read, true);
    assert.equal(merged.runs[0]!.next, 'n5', 'the longer run keeps its cursor');
  });

  test('a run that reaches the end drops any run past it (the list shrank)', () => {
    const rows = RowWindow.first(run(0, 2)).insert(run(50, 2)).insert(run(10, 2, { next: null, last: true }));
    assert.equal(rows.end, 12);
    assert.deepEqual(rows.runs.map((r) => r.start), [0, 10]);
  });

  test('an arrival is row 0 and moves every run down one; a page by cursor finds its run where it moved', () => {
    const rows = RowWindow.first(run(0, 2, { next: 'c1' })).insert(run(10, 2, { next: 'c11' }));
    const after = rows.prepend(message('new'));
    assert.deepEqual(ids(after, 0, 3), ['new', 'm0', 'm1']);
    assert.deepEqual(ids(after, 11, 13), ['m10', 'm11']);
    assert.equal(after.runBefore('c11')!.start, 11);
    assert.equal(after.runEndingAt(3)!.next, 'c1');
  });

  test('an arrival with no run at the top is a run of its own at row 0, the runs below moved down one', () => {
    const rows = RowWindow.empty.insert(run(10, 2));
    const after = rows.prepend(message('new'));
    assert.deepEqual(ids(after, 0, 2), ['new', '-']);
    assert.deepEqual(ids(after, 11, 13), ['m10', 'm11']);
    assert.deepEqual(after.missing(0, 13, 20), { from: 1, to: 11 }, 'the rows between are to be loaded');
    assert.equal(after.runEndingAt(1), undefined, 'with no cursor after it: they are loaded by position');
  });

  test('arrivals without rows (a burst) move every run down by their number; rows sent after them are the top', () => {
    const rows = RowWindow.first(run(0, 3, { next: 'c2' }));
    const after = rows.shift(100).prepend(message('b')).prepend(message('a'));
    assert.deepEqual(ids(after, 0, 3), ['a', 'b', '-']);
    assert.deepEqual(ids(after, 102, 105), ['m0', 'm1', 'm2']);
    assert.deepEqual(after.missing(0, 105, 200), { from: 2, to: 102 });
    assert.equal(after.runBefore('c2')!.start, 102, 'a page by cursor still finds its run');
    assert.equal(rows.shift(0), rows);
  });

  test('setRead changes one loaded row and returns the same window when nothing changes', () => {
    const rows = RowWindow.first(run(0, 3));
    const read = rows.setRead('m1', true);
    assert.notEqual(read, rows);
    assert.equal(read.at(1)!.read, true);
    assert.equal(rows.at(1)!.read, false, 'the old window is untouched');
    assert.equal(read.setRead('m1', true), read);
    assert.equal(read.setRead('not-loaded', true), read);
  });

  test('setTags replaces one loaded row\'s tags', () => {
    const rows = RowWindow.first(run(0, 2));
    const tagged = rows.setTags('m1', ['signup']);
    assert.deepEqual(tagged.at(1)!.tags, ['signup']);
    assert.equal(tagged.at(0), rows.at(0), 'the other rows are the same objects');
    assert.equal(rows.setTags('not-loaded', ['x']), rows);
  });

  test('a removal moves the rows below up and counts what it found unread', () => {
    const rows = RowWindow.first(run(0, 5, { next: null, last: true })).setRead('m3', true);
    const { window, found, unread } = rows.remove(new Set(['m1', 'm3']), false);
    assert.deepEqual(ids(window, 0, 4), ['m0', 'm2', 'm4', '-']);
    assert.deepEqual([...found].sort(), ['m1', 'm3']);
    assert.equal(unread, 1);
    assert.equal(window.end, 3);
  });

  test('a removed message that is not loaded drops the runs below the top one (their positions are unknown)', () => {
    const rows = RowWindow.first(run(0, 3)).insert(run(100, 3));
    const { window } = rows.remove(new Set(['somewhere']), false);
    assert.deepEqual(window.runs.map((r) => r.start), [0]);
  });

  test('an evicted message that is not loaded is the oldest: no run moves or goes', () => {
    const rows = RowWindow.first(run(0, 3)).insert(run(100, 3));
    const { window } = rows.remove(new Set(['oldest']), true);
    assert.deepEqual(window.runs.map((r) => r.start), [0, 100]);
  });

  test('a removal in a run below shifts only the runs after it', () => {
    const rows = RowWindow.first(run(0, 3)).insert(run(100, 3)).insert(run(200, 3));
    const { window } = rows.remove(new Set(['m101']), false);
    assert.deepEqual(window.runs.map((r) => r.start), [0, 100, 199]);
    assert.deepEqual(ids(window, 100, 102), ['m100', 'm102']);
    assert.equal(window.indexOf('m200'), 199);
    assert.equal(window.find('m101'), undefined);
  });
});
