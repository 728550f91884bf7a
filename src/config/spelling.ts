// "Did you mean": which known word a misspelt one most likely is. Pure.

/**
 * Edit distance with adjacent transpositions as one edit (optimal string alignment): `netwrok`
 * is one slip from `network`, as a person counts it.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The candidate `word` is most likely a misspelling of, if any is close: at most one edit per four
 * characters of the word (at least one), ignoring case. A far-off "did you mean" (`firewall` ->
 * `gateway`, `lidarr` -> `radarr`, another real app) misleads more than no suggestion.
 */
export function closeMatch(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 4));
  let best: { name: string; distance: number } | undefined;
  for (const c of candidates) {
    const distance = editDistance(word.toLowerCase(), c.toLowerCase());
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { name: c, distance };
  }
  return best?.name;
}
