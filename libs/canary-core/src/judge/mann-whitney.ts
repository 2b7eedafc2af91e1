/**
 * Mann-Whitney U (Wilcoxon rank-sum) with the normal approximation and tie correction: the
 * comparison Kayenta's judge makes between canary and baseline samples. Distribution-free, so a
 * latency series with a long tail is compared by ranks, not by a mean it would drag around.
 */
export type Direction = 'increase' | 'decrease' | 'either';

export interface MannWhitneyResult {
  /** U of the canary sample. */
  u: number;
  z: number;
  /** p-value of the alternative the direction names (one-sided) or of "they differ" (either). */
  pValue: number;
  /** Hodges-Lehmann estimate of the shift canary - primary (median of pairwise differences). */
  shift: number;
}

export function mannWhitneyU(
  canary: readonly number[],
  primary: readonly number[],
  direction: Direction,
): MannWhitneyResult {
  const n1 = canary.length;
  const n2 = primary.length;
  if (n1 === 0 || n2 === 0) throw new Error('Mann-Whitney U needs samples on both sides');
  const all = [...canary.map((v) => ({ v, c: true })), ...primary.map((v) => ({ v, c: false }))].sort(
    (a, b) => a.v - b.v,
  );
  const ranks = new Array<number>(all.length);
  let tieTerm = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]?.v === all[i]?.v) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) ranks[k] = rank;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  let r1 = 0;
  all.forEach((x, i) => {
    if (x.c) r1 += ranks[i] ?? 0;
  });
  const u = r1 - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const shift = hodgesLehmann(canary, primary);
  if (variance <= 0) return { u, z: 0, pValue: 1, shift };
  // Continuity correction towards the mean.
  const diff = u - mean;
  const z = (diff - Math.sign(diff) * 0.5) / Math.sqrt(variance);
  const upper = 1 - normalCdf(z);
  const lower = normalCdf(z);
  const pValue =
    direction === 'increase'
      ? upper
      : direction === 'decrease'
        ? lower
        : Math.min(1, 2 * Math.min(upper, lower));
  return { u, z, pValue, shift };
}

function hodgesLehmann(a: readonly number[], b: readonly number[]): number {
  const d: number[] = [];
  for (const x of a) for (const y of b) d.push(x - y);
  d.sort((x, y) => x - y);
  const mid = Math.floor(d.length / 2);
  return d.length % 2 === 1 ? (d[mid] ?? 0) : ((d[mid - 1] ?? 0) + (d[mid] ?? 0)) / 2;
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 via erf), accurate to ~1e-7. */
export function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-a * a);
  return s * y;
}
