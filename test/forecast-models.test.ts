/** The forecasting building blocks on known answers: optimiser, least squares, ETS, Theta, combination. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { mulberry32 } from '../sample-upstream/generator.ts';
import { combine } from '../src/services/forecast/combination-fns.ts';
import { fitEts, fitEtsVariant } from '../src/services/forecast/ets-fns.ts';
import { forecast } from '../src/services/forecast/forecast-fns.ts';
import type { Series } from '../src/services/forecast/forecast-types.ts';
import { seasonalLeastSquares, solve } from '../src/services/forecast/least-squares-fns.ts';
import { nelderMead } from '../src/services/forecast/nelder-mead-fns.ts';
import { fitTheta, isSeasonal } from '../src/services/forecast/theta-fns.ts';

function normal(seed: number): () => number {
  const uniform = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

const series = (values: number[], period: number): Series => ({
  values,
  usable: values.map(() => true),
  period,
  phase: 0,
});

test('Nelder–Mead finds the minimum of a quadratic bowl and of the Rosenbrock valley', () => {
  const bowl = nelderMead((x) => (x[0]! - 3) ** 2 + 10 * (x[1]! + 1) ** 2, [0, 0], { tolerance: 1e-12 });
  assert.ok(Math.abs(bowl.x[0]! - 3) < 1e-4 && Math.abs(bowl.x[1]! + 1) < 1e-4, String(bowl.x));
  assert.ok(bowl.fx < 1e-8);

  const rosenbrock = nelderMead((x) => 100 * (x[1]! - x[0]! ** 2) ** 2 + (1 - x[0]!) ** 2, [-1.2, 1], {
    maxIterations: 2000,
    tolerance: 1e-14,
  });
  assert.ok(
    Math.abs(rosenbrock.x[0]! - 1) < 1e-3 && Math.abs(rosenbrock.x[1]! - 1) < 2e-3,
    String(rosenbrock.x),
  );

  // One dimension, a start on the minimum, and the iteration cap.
  const line = nelderMead((x) => Math.abs(x[0]! - 0.5), [0.5]);
  assert.ok(Math.abs(line.x[0]! - 0.5) < 1e-6);
  const capped = nelderMead((x) => (x[0]! - 100) ** 2, [0], { maxIterations: 3 });
  assert.equal(capped.iterations, 3);
  // Infinity outside a region keeps the simplex inside it.
  const bounded = nelderMead((x) => (x[0]! < 0 ? Number.POSITIVE_INFINITY : (x[0]! + 1) ** 2), [2]);
  assert.ok(bounded.x[0]! >= 0 && bounded.x[0]! < 1e-3, String(bounded.x));
});

test('least squares: solve() and the one-pass seasonal fit match the known coefficients', () => {
  const a = [Float64Array.from([2, 1, 0]), Float64Array.from([1, 3, 1]), Float64Array.from([0, 1, 4])];
  const x = solve(a, Float64Array.from([3, 5, 5]))!;
  for (const v of x) assert.ok(Math.abs(v - 1) < 1e-12, String(x));
  assert.equal(
    solve([Float64Array.from([1, 2]), Float64Array.from([2, 4])], Float64Array.from([1, 2])),
    null,
  );

  const effects = [0, 5, -3, 8];
  const t = Array.from({ length: 40 }, (_, i) => i + 100);
  const seasons = t.map((i) => i % 4);
  const y = t.map((i, j) => 50 + 0.5 * i + effects[seasons[j]!]!);
  const fit = seasonalLeastSquares(t, seasons, y, 4)!;
  assert.ok(Math.abs(fit.intercept - 50) < 1e-8 && Math.abs(fit.trend - 0.5) < 1e-10);
  for (const [k, e] of fit.effects.entries()) {
    assert.ok(Math.abs(e - effects[k]!) < 1e-8, `effect ${k}: ${e}`);
  }
  // A season without a single point cannot be estimated.
  assert.equal(
    seasonalLeastSquares(
      t,
      seasons.map((s) => (s === 3 ? 2 : s)),
      y,
      4,
    ),
    null,
  );
});

test('ETS: a noiseless additive Holt–Winters series is forecast exactly; a damped trend flattens', () => {
  const pattern = [10, -5, 0, 20, -25, 5, -5];
  const values = Array.from({ length: 140 }, (_, t) => 200 + 2 * t + pattern[t % 7]!);
  const fitted = fitEts(series(values, 7), values.length)!;
  assert.equal(fitted.name, 'ets');
  assert.match(fitted.note, /^ETS\(A,(A|Ad),A\)/);
  fitted.predict(14).forEach((v, k) => {
    const expected = 200 + 2 * (140 + k) + pattern[(140 + k) % 7]!;
    assert.ok(Math.abs(v - expected) < 0.02 * expected, `step ${k + 1}: ${v} vs ${expected}`);
  });
  // A damped trend's increments shrink by φ per step.
  const y = Float64Array.from(values);
  const real = new Uint8Array(values.length).fill(1);
  const damped = fitEtsVariant(y, real, 7, { trend: 'Ad', season: 'A' })!;
  assert.ok(damped.params.phi >= 0.8 && damped.params.phi <= 0.98, String(damped.params.phi));
  const far = damped.forecast(70);
  const step = (k: number) => far[k]! - far[k - 7]!;
  assert.ok(step(69) < step(13), `weekly gain ${step(13)} → ${step(69)}`);
  // Parameters stay inside the ETS region.
  const { alpha, beta, gamma } = damped.params;
  assert.ok(alpha > 0 && alpha < 1 && beta >= 0 && beta <= alpha && gamma >= 0 && gamma <= 1 - alpha);
});

test('ETS: multiplicative seasonality is chosen by AICc when the swing grows with the level', () => {
  const z = normal(11);
  const factors = [0.7, 0.9, 1, 1.1, 1.3, 1.4, 0.6, 0.8, 1.2, 1.0, 0.9, 1.1];
  const values = Array.from({ length: 120 }, (_, t) => (100 + 4 * t) * factors[t % 12]! * (1 + 0.01 * z()));
  const fitted = fitEts(series(values, 12), values.length)!;
  assert.match(fitted.note, /,M\) by AICc$/);
  // A level series with noise needs no trend.
  const flat = Array.from({ length: 120 }, () => 500 + 10 * z());
  assert.match(fitEts(series(flat, 0), flat.length)!.note, /^ETS\(A,N,N\)/);
  // Zeros rule out the multiplicative season.
  const withZero = values.map((v, t) => (t === 50 ? 0 : v));
  assert.doesNotMatch(fitEts(series(withZero, 12), withZero.length)!.note, /,M\)/);
});

test('Theta: seasonal adjustment only when the season is significant; the drift is half the slope', () => {
  const z = normal(5);
  const line = Array.from({ length: 100 }, (_, t) => 50 + 2 * t + 0.5 * z());
  const theta = fitTheta(series(line, 12), line.length)!;
  assert.equal(theta.note, 'no significant season');
  assert.ok(Math.abs(theta.coefficients['drift']! - 1) < 0.05, String(theta.coefficients['drift']));
  // SES follows the last level; the θ = 2 line adds half the slope per step.
  const f = theta.predict(10);
  assert.ok(Math.abs(f[9]! - f[0]! - 9) < 0.5, `${f[0]} → ${f[9]}`);

  const seasonal = Array.from(
    { length: 96 },
    (_, t) => 100 * (1 + 0.3 * Math.sin((2 * Math.PI * t) / 12)) + z(),
  );
  assert.ok(isSeasonal(Float64Array.from(seasonal), 12));
  assert.ok(!isSeasonal(Float64Array.from(line.map((v, t) => v - 2 * t)), 12));
  const adjusted = fitTheta(series(seasonal, 12), seasonal.length)!;
  assert.match(adjusted.note, /seasonally adjusted \(multiplicative\)/);
  adjusted.predict(12).forEach((v, k) => {
    const expected = 100 * (1 + 0.3 * Math.sin((2 * Math.PI * (96 + k)) / 12));
    assert.ok(Math.abs(v - expected) < 5, `step ${k + 1}: ${v} vs ${expected}`);
  });
});

test('combination: the step-by-step mean of its members, and `model: "combination"` says which', () => {
  assert.deepEqual(
    combine([
      [1, 2, 3],
      [3, 4, 5],
      [5, 6, 10],
    ]),
    [3, 4, 6],
  );
  const z = normal(2);
  const values = Array.from(
    { length: 200 },
    (_, t) => 300 + t + 40 * Math.sin((2 * Math.PI * t) / 7) + 5 * z(),
  );
  const input = { values, period: 7, phase: 0, horizon: 14, levels: [80] };
  const out = forecast({ ...input, model: 'combination' });
  assert.equal(out.model.name, 'combination');
  assert.deepEqual(out.model.features, ['ets', 'theta', 'seasonal_regression']);
  assert.match(
    out.model.reason,
    /^combination as requested; mean of ets \(ETS\(A,.*\), theta \(.*\), seasonal_regression/,
  );
  const members = (['ets', 'theta', 'seasonal_regression'] as const).map((model) =>
    forecast({ ...input, model }),
  );
  out.forecast.forEach((p, k) => {
    const mean = members.reduce((s, m) => s + m.forecast[k]!.value, 0) / 3;
    assert.ok(Math.abs(p.value - mean) < 1e-9, `step ${k + 1}`);
  });
});

test('the forecast modules import one way: no cycles', () => {
  const dir = join(import.meta.dirname, '../src/services/forecast');
  const graph = new Map<string, string[]>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const source = readFileSync(join(dir, file), 'utf8');
    graph.set(
      file,
      [...source.matchAll(/from '\.\/([\w-]+\.ts)'/g)].map((m) => m[1]!),
    );
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === 'done') return;
    assert.notEqual(state.get(file), 'visiting', `import cycle: ${[...path, file].join(' -> ')}`);
    state.set(file, 'visiting');
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  assert.ok(graph.get('forecast-types.ts')!.length === 0, 'the shared types import nothing of their folder');
});
