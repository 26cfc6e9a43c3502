// The message list is a spacer as tall as all its rows, but browsers stop laying out an element
// past a height (Chromium at about 33.5 million px, Firefox near 17.9 million): at 68 px a row,
// past ~490,000 messages the scrollbar could not reach the oldest ones (bench: million). Beyond
// MAX_LIST_PX the spacer stays that tall and its scroll range is mapped linearly onto the rows'
// (virtual) range, so the scrollbar's end is the last row whatever the count. Below it the
// mapping is the identity and nothing changes.

/** Under every browser's layout limit, with room to spare. */
export const MAX_LIST_PX = 15_000_000;

export interface ListScale {
  /** The spacer's height in real pixels. */
  readonly height: number;
  /** Virtual pixels per real pixel of scrolling: 1 below the limit. */
  readonly factor: number;
  /** The virtual offset (row index × row height) at a real scrollTop. */
  toVirtual(real: number): number;
  /** The real scrollTop that shows a virtual offset at the top of the view. */
  toReal(virtual: number): number;
}

const IDENTITY = (height: number): ListScale => ({ height, factor: 1, toVirtual: (r) => r, toReal: (v) => v });

/** The scale for `contentPx` of rows in a view `viewPx` tall. */
export function listScale(contentPx: number, viewPx: number, max = MAX_LIST_PX): ListScale {
  if (contentPx <= max) return IDENTITY(contentPx);
  // Both ranges are what scrollTop can take: the height less the view.
  const view = Math.min(Math.max(0, viewPx), max / 2);
  const virtualRange = contentPx - view;
  const realRange = max - view;
  const factor = virtualRange / realRange;
  return {
    height: max,
    factor,
    toVirtual: (r) => Math.min(virtualRange, Math.max(0, r * factor)),
    toReal: (v) => Math.min(realRange, Math.max(0, v / factor)),
  };
}
