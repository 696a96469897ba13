// Where the head view's rows are: which tokens the scroll position shows, and the canvas's size.

export const ROW_HEIGHT = 20;
/** Rows beyond the viewport whose lines are still drawn, so attention just off-screen shows. */
const LINE_OVERSCAN_SCREENS = 1;
const LABEL_OVERSCAN_ROWS = 10;

export interface HeadViewLayout {
  /** The canvas's size in CSS pixels: the middle column's width, the viewport's height. */
  width: number;
  viewportHeight: number;
  scrollTop: number;
  /** Positions [from, to) whose labels are in the DOM. */
  labelWindow: [number, number];
  /** Positions [from, to) whose lines are drawn. */
  lineWindow: [number, number];
}

/** The layout for a viewport `viewportHeight` tall, scrolled `scrollTop` down, with a canvas `width` wide. */
export function headViewLayout(width: number, viewportHeight: number, scrollTop: number): HeadViewLayout {
  const firstRow = Math.floor(scrollTop / ROW_HEIGHT);
  const visibleRows = Math.ceil(viewportHeight / ROW_HEIGHT) + 1;
  const overscan = visibleRows * LINE_OVERSCAN_SCREENS;
  return {
    width,
    viewportHeight,
    scrollTop,
    labelWindow: [firstRow - LABEL_OVERSCAN_ROWS, firstRow + visibleRows + LABEL_OVERSCAN_ROWS],
    lineWindow: [firstRow - overscan, firstRow + visibleRows + overscan],
  };
}
