// The model view's grid geometry: thumbnail size and the gaps between thumbnails.

const MIN_THUMB = 28;
export const MAX_THUMB = 56;
export const GAP = 4;
/** The width of the layer-number column, in CSS pixels. */
export const HEADER = 30;

/** The thumbnail size in CSS pixels for a panel `width` wide showing `heads` columns. */
export function thumbnailSize(width: number, heads: number): number {
  const available = width - HEADER - GAP * Math.max(1, heads);
  return Math.max(MIN_THUMB, Math.min(MAX_THUMB, Math.floor(available / Math.max(1, heads))));
}
