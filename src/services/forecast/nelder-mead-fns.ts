/**
 * Nelder–Mead simplex minimisation (the standard reflection 1, expansion 2, contraction ½, shrink ½),
 * small and allocation-free per iteration: the forecasting models call it thousands of times per
 * request. Bounds are the objective's business (return Infinity, or clamp, outside them).
 */

export interface MinimiseOptions {
  /** initial simplex edge per coordinate; default 0.1 */
  step?: number | readonly number[];
  maxIterations?: number;
  /** stop when the simplex's best and worst values differ by less than this (relative) */
  tolerance?: number;
}

export interface Minimum {
  x: number[];
  fx: number;
  iterations: number;
}

export function nelderMead(
  f: (x: Float64Array) => number,
  start: readonly number[],
  options: MinimiseOptions = {},
): Minimum {
  const d = start.length;
  const maxIterations = options.maxIterations ?? 200 * d;
  const tolerance = options.tolerance ?? 1e-8;
  const points: Float64Array[] = [];
  const values = new Float64Array(d + 1);
  for (let i = 0; i <= d; i++) {
    const p = Float64Array.from(start);
    if (i > 0) {
      const step = options.step;
      const s = typeof step === 'number' ? step : (step?.[i - 1] ?? 0.1);
      p[i - 1]! += s === 0 ? 0.1 : s;
    }
    points.push(p);
    values[i] = f(p);
  }
  const order = Array.from({ length: d + 1 }, (_, i) => i);
  const centroid = new Float64Array(d);
  const reflected = new Float64Array(d);
  const trial = new Float64Array(d);

  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    order.sort((a, b) => values[a]! - values[b]!);
    const best = values[order[0]!]!;
    const worstIndex = order[d]!;
    const worst = values[worstIndex]!;
    if (Math.abs(worst - best) <= tolerance * (Math.abs(best) + tolerance)) break;

    centroid.fill(0);
    for (let i = 0; i < d; i++) {
      const p = points[order[i]!]!;
      for (let j = 0; j < d; j++) centroid[j]! += p[j]! / d;
    }
    const worstPoint = points[worstIndex]!;
    for (let j = 0; j < d; j++) reflected[j] = centroid[j]! + (centroid[j]! - worstPoint[j]!);
    const fr = f(reflected);
    const secondWorst = values[order[d - 1]!]!;

    if (fr < best) {
      for (let j = 0; j < d; j++) trial[j] = centroid[j]! + 2 * (centroid[j]! - worstPoint[j]!);
      const fe = f(trial);
      if (fe < fr) accept(worstPoint, trial, fe);
      else accept(worstPoint, reflected, fr);
      continue;
    }
    if (fr < secondWorst) {
      accept(worstPoint, reflected, fr);
      continue;
    }
    // Contract towards the better of the worst point and its reflection.
    const outside = fr < worst;
    for (let j = 0; j < d; j++) {
      const from = outside ? reflected[j]! : worstPoint[j]!;
      trial[j] = centroid[j]! + 0.5 * (from - centroid[j]!);
    }
    const fc = f(trial);
    if (fc < Math.min(fr, worst)) {
      accept(worstPoint, trial, fc);
      continue;
    }
    // Shrink everything towards the best point.
    const bestPoint = points[order[0]!]!;
    for (let i = 1; i <= d; i++) {
      const p = points[order[i]!]!;
      for (let j = 0; j < d; j++) p[j] = bestPoint[j]! + 0.5 * (p[j]! - bestPoint[j]!);
      values[order[i]!] = f(p);
    }
  }

  function accept(target: Float64Array, source: Float64Array, value: number): void {
    target.set(source);
    values[points.indexOf(target)] = value;
  }

  let bestIndex = 0;
  for (let i = 1; i <= d; i++) if (values[i]! < values[bestIndex]!) bestIndex = i;
  return { x: Array.from(points[bestIndex]!), fx: values[bestIndex]!, iterations };
}
