/** How weights and tokens read everywhere in the widget. */

/** A weight as a percentage: 23.1%, 0.42%, <0.01%. */
export function percent(weight: number): string {
  if (!Number.isFinite(weight)) return "–";
  const value = weight * 100;
  if (value === 0) return "0%";
  if (value < 0.01) return "<0.01%";
  return `${value < 1 ? value.toFixed(2) : value.toFixed(1)}%`;
}

/** A token as a short label; the full text stays available as a tooltip. */
export function tokenLabel(token: string, maxLength = 24): string {
  if (token === "") return "∅";
  return token.length > maxLength ? `${token.slice(0, maxLength - 1)}…` : token;
}

/** What a panel shows while its layer is missing: loading, or why it will never come. */
export function missingLayerText(layer: number, unanswered: boolean): string {
  return unanswered
    ? `layer ${layer} was not saved with this notebook: use \`stream=False\` or \`w.save_html()\``
    : `Loading layer ${layer}…`;
}

export function shape(dims: readonly number[]): string {
  return `(${dims.join(", ")})`;
}

/** A weight as a precise number for tooltips: 0.2314, 3.10e-5. */
export function precise(weight: number): string {
  if (!Number.isFinite(weight)) return "–";
  if (weight === 0) return "0";
  return Math.abs(weight) >= 0.001 ? weight.toFixed(4) : weight.toExponential(2);
}

/** A round tick value as a percentage without trailing zeros: 0%, 10%, 2.5%. */
export function percentTick(value: number): string {
  return `${Number((value * 100).toPrecision(3))}%`;
}

/**
 * What the values are when they are not raw token attention, for
 * every panel's caption: "Rollout of layers 0–3 · words". Empty for raw tokens.
 * Cross-attention is never combined: rollout needs the same tokens on both axes.
 */
export function analysisCaption(data: { combine: string; granularity: string } | null, stackName: string, layer: number | null): string {
  if (!data) return "";
  const parts: string[] = [];
  if (data.combine === "rollout" && stackName !== "cross") {
    // null: a view of every layer (the model view), each combined with the layers below it.
    parts.push(layer === null ? "Rollout up to each layer" : layer === 0 ? "Rollout of layer 0" : `Rollout of layers 0–${layer}`);
  }
  if (data.granularity === "words") parts.push(parts.length ? "words" : "Words");
  return parts.join(" · ");
}

/** `text` with the analysis caption in front, when there is one. */
export function withAnalysisCaption(text: string, data: { combine: string; granularity: string } | null, stackName: string, layer: number | null): string {
  const prefix = analysisCaption(data, stackName, layer);
  return prefix ? `${prefix} · ${text}` : text;
}
