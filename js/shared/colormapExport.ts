import { colormapTable, headColor, parseColor, weightColormap, type Theme } from "./colors";

/** The most heads a head palette is written out for; larger models fall back to the sinebow sampled finely. */
export const EXPORTED_HEAD_COUNTS = 128;

/**
 * The page's colours as plain data, written to static/colormaps.json at build time, so that
 * attnwidget.plot draws with exactly the page's colormaps and head palette instead of a copy.
 */
export function colormapData(): { weights: Record<"light" | "dark", string[]>; heads: Record<string, string[]> } {
  const asHex = (theme: Pick<Theme, "dark">) => {
    const table = colormapTable(weightColormap(theme as Theme));
    return Array.from({ length: 256 }, (_, i) => hex(table[i * 3]!, table[i * 3 + 1]!, table[i * 3 + 2]!));
  };
  const heads: Record<string, string[]> = {};
  for (let count = 1; count <= EXPORTED_HEAD_COUNTS; count++) {
    heads[String(count)] = Array.from({ length: count }, (_, head) => hex(...parseColor(headColor(head, count))));
  }
  return { weights: { light: asHex({ dark: false }), dark: asHex({ dark: true }) }, heads };
}

function hex(r: number, g: number, b: number): string {
  return `#${[r, g, b].map((value) => Math.round(value).toString(16).padStart(2, "0")).join("")}`;
}
