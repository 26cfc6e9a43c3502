// The message list's scroll scale (ui/src/lib/list-scale.ts) on its own: below the height a
// browser lays out the mapping is the identity; above it the scrollbar's whole range reaches
// every row, the mapping is monotonic, and a row scrolled to is the row shown.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { listScale, MAX_LIST_PX } from '../ui/src/lib/list-scale.js';

const ROW = 68;
const VIEW = 900;

describe('list scale', () => {
  test('below the layout limit the spacer is every row and scrollTop is the rows offset', () => {
    const s = listScale(100_000 * ROW, VIEW);
    assert.equal(s.height, 100_000 * ROW);
    assert.equal(s.factor, 1);
    for (const px of [0, 1, 12_345, 100_000 * ROW - VIEW]) {
      assert.equal(s.toVirtual(px), px);
      assert.equal(s.toReal(px), px);
    }
  });

  test('a million rows: the spacer stays under the limit and the end of the scrollbar shows the last row', () => {
    const count = 1_000_000;
    const s = listScale(count * ROW, VIEW);
    assert.equal(s.height, MAX_LIST_PX);
    assert.ok(s.factor > 4 && s.factor < 5, `factor ${s.factor}`);
    const realEnd = s.height - VIEW;
    const virtualEnd = count * ROW - VIEW;
    assert.equal(s.toVirtual(realEnd), virtualEnd, 'the scrollbar at its end is the rows at theirs');
    assert.equal(Math.floor((s.toVirtual(realEnd) + VIEW - 1) / ROW), count - 1, 'the last row is in view');
    assert.equal(s.toVirtual(0), 0);
    // Past the range (a browser may let overscanned rows stretch it a little): still the end.
    assert.equal(s.toVirtual(realEnd + 500), virtualEnd);
  });

  test('scrolling to a row by its scaled offset puts that row at the top, for rows across the range', () => {
    const count = 1_000_000;
    const s = listScale(count * ROW, VIEW);
    for (const index of [0, 1, 2, 1000, 123_457, 490_000, 500_000, 777_777, count - 20]) {
      // A browser keeps scrollTop in whole (or device) pixels: rounding must not lose the row.
      const real = Math.round(s.toReal(index * ROW));
      const shown = Math.floor(s.toVirtual(real) / ROW);
      assert.ok(Math.abs(shown - index) <= 1, `row ${index}: shown ${shown}`);
    }
  });

  test('the mapping is monotonic: scrolling down never moves the rows up', () => {
    const s = listScale(3_000_000 * ROW, VIEW);
    let previous = -1;
    for (let real = 0; real <= s.height - VIEW; real += 997) {
      const v = s.toVirtual(real);
      assert.ok(v >= previous, `at ${real}`);
      previous = v;
    }
  });
});
