import { interpolateBlues, interpolateInferno, interpolateRdBu, interpolateSinebow } from "d3-scale-chromatic";

/** The theme's colours, read from CSS so JupyterLab, VS Code and Colab themes apply. */
export interface Theme {
  dark: boolean;
  foreground: string;
  muted: string;
  background: string;
  accent: string;
}

export function readTheme(element: HTMLElement): Theme {
  const style = getComputedStyle(element);
  const value = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const background = value("--aw-bg", "#ffffff");
  return {
    dark: isDark(background),
    foreground: value("--aw-fg", "#1f2328"),
    muted: value("--aw-muted", "#6e7781"),
    background,
    accent: value("--aw-accent", "#0969da"),
  };
}

/**
 * One colour per head that stays distinct well past 10 heads: hues spread
 * around the sinebow in a stride, so neighbouring head numbers differ most.
 */
export function headColor(head: number, heads: number): string {
  const count = Math.max(1, heads);
  const stride = strideFor(count);
  const position = ((head * stride) % count) / count;
  return interpolateSinebow(position);
}

function strideFor(count: number): number {
  // A stride coprime with the count visits every hue once; near a third of the circle separates neighbours well.
  let stride = Math.max(1, Math.round(count / 3));
  while (gcd(stride, count) !== 1) stride += 1;
  return stride;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** The perceptual colormap for weights in [0, 1]: light on light themes, dark on dark ones. */
export function weightColormap(theme: Theme): (t: number) => string {
  return theme.dark ? interpolateInferno : interpolateBlues;
}

/**
 * The diverging colormap for differences (A − B) on a symmetric scale: t = 0 is
 * −scale (B larger, blue), 0.5 is no difference (neutral), 1 is +scale (A larger, red).
 */
export function differenceColormap(t: number): string {
  return interpolateRdBu(1 - t);
}

/** A colormap as 256 RGB triples, for filling ImageData fast. */
export function colormapTable(colormap: (t: number) => string): Uint8ClampedArray {
  const table = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const [r, g, b] = parseColor(colormap(i / 255));
    table.set([r, g, b], i * 3);
  }
  return table;
}

/** "rgb(r, g, b)" or "#rrggbb" to numbers. */
export function parseColor(color: string): [number, number, number] {
  const hex = color.match(/^#([0-9a-f]{6})$/i);
  if (hex) {
    const value = Number.parseInt(hex[1]!, 16);
    return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
  }
  const parts = color.match(/\d+(\.\d+)?/g)?.map(Number) ?? [0, 0, 0];
  return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
}

function isDark(color: string): boolean {
  const [r, g, b] = parseColor(color.startsWith("#") || color.startsWith("rgb") ? color : "#ffffff");
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 128;
}

/** Signed values (query and key components, products): red above zero, blue below, white at zero; `max` is the |value| of full colour. */
export function signedColor(value: number, max: number): string {
  const t = max > 0 ? Math.max(-1, Math.min(1, value / max)) : 0;
  return interpolateRdBu(0.5 - t / 2);
}
