/** Axis and colour-bar ticks: round numbers, so scales read at a glance. */

/** A round step (1, 2 or 5 × 10ⁿ) near `raw`. */
export function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  const step = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  return step * magnitude;
}

/** Round ticks from 0 to at most `max`, about `count` of them. */
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0];
  const step = niceStep(max / Math.max(1, count));
  const ticks: number[] = [];
  for (let i = 0; i * step <= max * (1 + 1e-9); i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** Whole-number positions in [start, start + count) at a round spacing, about `approx` of them. */
export function integerTicks(start: number, count: number, approx: number): number[] {
  const step = Math.max(1, Math.round(niceStep(count / Math.max(1, approx))));
  const ticks: number[] = [];
  for (let value = Math.ceil(start / step) * step; value < start + count; value += step) ticks.push(value);
  return ticks;
}
