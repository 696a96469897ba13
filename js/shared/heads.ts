/** The selected heads the shown stack has. */
export function validHeads(heads: readonly number[], nHeads: number): number[] {
  return heads.filter((head) => head >= 0 && head < nHeads);
}
