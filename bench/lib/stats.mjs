// Order statistics of the samples, and ratios of interleaved samples.

/** @param {number[]} xs */
export function median(xs) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? /** @type {number} */ (s[mid]) : (/** @type {number} */ (s[mid - 1]) + /** @type {number} */ (s[mid])) / 2;
}

/** @param {number[]} xs */
export function summary(xs) {
  if (xs.length === 0) return { n: 0, min: NaN, median: NaN, max: NaN };
  return { n: xs.length, min: Math.min(...xs), median: median(xs), max: Math.max(...xs) };
}

/**
 * Samples of two participants taken in the same round (same index) are
 * paired; the median of the per-round ratios holds when the machine's speed
 * drifts during the run. Rounds where either side has no sample are skipped.
 * @param {(number | undefined)[]} a
 * @param {(number | undefined)[]} b
 * @param {(x: number, y: number) => number} f
 */
export function pairedMedian(a, b, f) {
  /** @type {number[]} */
  const out = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x !== undefined && y !== undefined && Number.isFinite(x) && Number.isFinite(y)) out.push(f(x, y));
  }
  return out.length > 0 ? median(out) : NaN;
}
