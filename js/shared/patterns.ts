import type { HeadStatsPayload } from "../data/protocol";

/** What each head_stats() pattern means, for titles and legends (thresholds in Python's analysis.py). */
export const PATTERN_DESCRIPTIONS: Record<string, string> = {
  previous: "mostly attends to the previous token",
  next: "mostly attends to the next token",
  self: "mostly attends to itself",
  special: "a sink: mostly attends to special tokens ([CLS], [SEP], <s>…)",
  local: "attends within one token either side",
  broad: "spreads its attention broadly",
  other: "none of the above",
};

/** A short badge for a model-view thumbnail; "other" gets none. */
export const PATTERN_BADGES: Record<string, string> = {
  previous: "prev",
  next: "next",
  self: "self",
  special: "sink",
  local: "local",
  broad: "broad",
  other: "",
};

/** The pattern of every head of `stackName` as "layer:head" → pattern; empty when the statistics are of another stack. */
export function headPatterns(stats: HeadStatsPayload | null, stackName: string): Map<string, string> {
  const patterns = new Map<string, string>();
  if (!stats || stats.stack !== stackName) return patterns;
  const { layer, head, pattern } = stats.columns;
  for (let i = 0; i < pattern.length; i++) patterns.set(`${layer[i]}:${head[i]}`, String(pattern[i]));
  return patterns;
}
