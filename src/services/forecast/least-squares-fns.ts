/**
 * Least squares for intercept + trend + one-hot seasonal dummies, through the normal equations: the
 * dummies are one-hot, so XᵀX builds in one pass over the rows and the solve is (period + 1)³, tiny.
 * ml-regression's general solver built and multiplied full n × (period + 1) matrices and was most
 * of a seasonal forecast's time.
 */

export interface SeasonalFit {
  intercept: number;
  trend: number;
  /** effect of each season against season 0 (effects[0] = 0) */
  effects: number[];
}

/** Solves A x = b in place by Gaussian elimination with partial pivoting; null when singular. */
export function solve(a: Float64Array[], b: Float64Array): Float64Array | null {
  const q = b.length;
  for (let col = 0; col < q; col++) {
    let pivot = col;
    for (let r = col + 1; r < q; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    if (Math.abs(a[pivot]![col]!) < 1e-12) return null;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    [b[col], b[pivot]] = [b[pivot]!, b[col]!];
    const row = a[col]!;
    for (let r = col + 1; r < q; r++) {
      const other = a[r]!;
      const factor = other[col]! / row[col]!;
      if (factor === 0) continue;
      for (let c = col; c < q; c++) other[c]! -= factor * row[c]!;
      b[r]! -= factor * b[col]!;
    }
  }
  const x = new Float64Array(q);
  for (let r = q - 1; r >= 0; r--) {
    let s = b[r]!;
    for (let c = r + 1; c < q; c++) s -= a[r]![c]! * x[c]!;
    x[r] = s / a[r]![r]!;
  }
  return x;
}

/**
 * Columns: 1, t − t̄ (centred for conditioning), and a dummy for each season 1..period − 1.
 * null when the system is singular (a season without a point).
 */
export function seasonalLeastSquares(
  t: readonly number[],
  seasons: readonly number[],
  y: readonly number[],
  period: number,
): SeasonalFit | null {
  const q = 2 + Math.max(0, period - 1);
  const a = Array.from({ length: q }, () => new Float64Array(q));
  const b = new Float64Array(q);
  let centre = 0;
  for (const v of t) centre += v / t.length;
  for (let i = 0; i < t.length; i++) {
    const x = t[i]! - centre;
    const v = y[i]!;
    const d = period >= 2 && seasons[i]! > 0 ? 1 + seasons[i]! : -1;
    a[0]![0]! += 1;
    a[0]![1]! += x;
    a[1]![1]! += x * x;
    b[0]! += v;
    b[1]! += x * v;
    if (d > 0) {
      a[0]![d]! += 1;
      a[1]![d]! += x;
      a[d]![d]! += 1;
      b[d]! += v;
    }
  }
  for (let r = 0; r < q; r++) for (let c = 0; c < r; c++) a[r]![c] = a[c]![r]!;
  const x = solve(a, b);
  if (!x) return null;
  const effects = [0];
  for (let k = 1; k < period; k++) effects.push(x[1 + k]!);
  return { intercept: x[0]! - x[1]! * centre, trend: x[1]!, effects };
}
