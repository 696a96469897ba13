// The head view's canvas: one line from each left token to each right token it attends to.
import { headColor } from "../../shared/colors";
import { ROW_HEIGHT } from "./layout";

/** Lines are grouped into this many opacity steps, one canvas path each. */
const OPACITY_STEPS = 16;
/**
 * Up to this many lines (a hovered token's) are drawn 1.5 px wide; more are drawn one device
 * pixel wide, which Skia rasterises as hairlines: in Chromium's software raster, 1,500 lines
 * 1.5 px wide took 55-95 ms inside the compositor's Commit (the canvas is rasterised there),
 * one device pixel wide 7-15 ms.
 */
const WIDE_LINES = 200;

export interface Line {
  head: number;
  /** Visible row and column positions. */
  r: number;
  c: number;
  weight: number;
}

export function drawLines(ctx: CanvasRenderingContext2D, lines: Line[], width: number, scrollTop: number, nHeads: number): void {
  // One path per (head, opacity step): thousands of lines cost a few dozen strokes.
  const paths = new Map<number, Path2D>();
  for (const line of lines) {
    const step = Math.min(OPACITY_STEPS - 1, Math.floor(line.weight * OPACITY_STEPS));
    const key = line.head * OPACITY_STEPS + step;
    let path = paths.get(key);
    if (!path) paths.set(key, (path = new Path2D()));
    path.moveTo(0, line.r * ROW_HEIGHT + ROW_HEIGHT / 2 - scrollTop);
    path.lineTo(width, line.c * ROW_HEIGHT + ROW_HEIGHT / 2 - scrollTop);
  }
  ctx.lineWidth = lines.length <= WIDE_LINES ? 1.5 : 1 / Math.max(1, globalThis.devicePixelRatio || 1);
  for (const [key, path] of paths) {
    const head = Math.floor(key / OPACITY_STEPS);
    ctx.strokeStyle = headColor(head, nHeads);
    ctx.globalAlpha = Math.min(1, ((key % OPACITY_STEPS) + 0.5) / OPACITY_STEPS);
    ctx.stroke(path);
  }
  ctx.globalAlpha = 1;
}
