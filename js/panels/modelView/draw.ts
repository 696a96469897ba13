// The model view's canvases: one row of thumbnails per layer, a hatch where one is not computed yet.
import { prepareCanvas } from "../../shared/canvas";
import type { Theme } from "../../shared/colors";
import { hatchPattern, paintValues, type Raster, rgb, weightTable } from "../../shared/raster";
import type { ThumbnailCache } from "./cache";
import { GAP } from "./layout";

/** Draw the layer's row of `nHeads` thumbnails, `size` CSS pixels each, from outRows × outCols cells. */
export function drawRow(
  canvas: HTMLCanvasElement,
  layer: number,
  nHeads: number,
  size: number,
  outRows: number,
  outCols: number,
  cache: ThumbnailCache,
  raster: Raster,
  theme: Theme,
): void {
  const width = nHeads * size + (nHeads - 1) * GAP;
  const ctx = prepareCanvas(canvas, width, size);
  if (!ctx) return;
  const table = weightTable(theme);
  const empty = rgb(theme.background);
  let hatch: CanvasPattern | string | null = null;
  for (let head = 0; head < nHeads; head++) {
    const x = head * (size + GAP);
    const thumb = cache.get(layer, head, outRows, outCols);
    const pixels = thumb ? raster.pixels(outCols, outRows) : null;
    if (thumb && pixels) {
      paintValues(thumb.values, outRows * outCols, thumb.max, table, empty, pixels);
      raster.drawTo(ctx, x, 0, size, size);
    } else {
      hatch ??= hatchPattern(ctx, theme.muted);
      ctx.fillStyle = theme.background;
      ctx.fillRect(x, 0, size, size);
      ctx.fillStyle = hatch;
      ctx.fillRect(x, 0, size, size);
    }
  }
}
