// The thumbnails computed so far, per (layer, head, size), for one data version, stack and filter.
import { causalMaskStart } from "../../shared/causalMask";
import type { LayerView, View } from "../../state/view";
import { thumbnailValues } from "./thumbnails";

export interface Thumb {
  values: Float32Array;
  max: number;
}

/** What the missing thumbnails are computed for: the last paint's view and sizes. */
export interface ThumbnailJob {
  view: View;
  selectedLayer: number;
  outRows: number;
  outCols: number;
}

export class ThumbnailCache {
  /** Data version, stack and filters the thumbnails are of. */
  key = "";
  /** Thumbnails computed since the last paint, whose rows are not drawn yet. */
  fresh = false;
  private thumbs = new Map<string, Thumb>();
  private mask: Int32Array | null = null;

  /** Starts over for another `key`, or once it holds more than `limit` thumbnails; true when it did. */
  reset(key: string, layer: LayerView, limit: number): boolean {
    if (key === this.key && this.thumbs.size <= limit) return false;
    this.key = key;
    this.thumbs = new Map();
    this.mask = causalMaskStart(layer);
    return true;
  }

  get(layer: number, head: number, outRows: number, outCols: number): Thumb | undefined {
    return this.thumbs.get(thumbId(layer, head, outRows, outCols));
  }

  has(layer: number, head: number, outRows: number, outCols: number): boolean {
    return this.thumbs.has(thumbId(layer, head, outRows, outCols));
  }

  /**
   * Computes the job's missing thumbnails, the selected layer first, while `timeLeft()`
   * (72 thumbnails of 512 tokens take about half a second). True while some are still missing.
   */
  compute(job: ThumbnailJob, timeLeft: () => boolean): boolean {
    const { view, selectedLayer, outRows, outCols } = job;
    const nLayers = view.stack?.nLayers ?? 0;
    const nHeads = view.stack?.nHeads ?? 0;
    const order = [selectedLayer, ...Array.from({ length: nLayers }, (_, layer) => layer).filter((layer) => layer !== selectedLayer)];
    let missing = false;
    for (const layer of order) {
      const layerView = view.layer(layer);
      if (!layerView?.ready) continue;
      for (let head = 0; head < nHeads && !missing; head++) {
        const id = thumbId(layer, head, outRows, outCols);
        if (this.thumbs.has(id)) continue;
        if (!timeLeft()) {
          missing = true;
          break;
        }
        const values = thumbnailValues(layerView, head, outRows, outCols, this.mask);
        if (!values) continue;
        let max = 0;
        for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
        this.thumbs.set(id, { values, max });
        this.fresh = true;
      }
      if (missing) break;
    }
    return missing;
  }
}

function thumbId(layer: number, head: number, outRows: number, outCols: number): string {
  return `${layer}:${head}:${outRows}x${outCols}`;
}
