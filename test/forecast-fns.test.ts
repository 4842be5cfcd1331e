/** The forecasting core on synthetic series with known answers; noise from a seeded PRNG. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../sample-upstream/generator.ts';
import {
  type ForecastInput,
  type ForecastOutput,
  forecast,
  InsufficientHistoryError,
} from '../src/services/forecast/forecast-fns.ts';

/** Standard normal noise (Box–Muller). */
function normal(seed: number): () => number {
  const uniform = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

const WEEK = [0, 10, 20, 15, 30, 60, 40];

function weeklySeries(length: number, seed: number, noise = 8): number[] {
  const z = normal(seed);
  return Array.from({ length }, (_, t) => 200 + 0.1 * t + WEEK[t % 7]! + noise * z());
}

function run(values: number[], overrides: Partial<ForecastInput> = {}): ForecastOutput {
  return forecast({
    values,
    period: 7,
    phase: 0,
    horizon: 14,
    model: 'auto',
    levels: [80, 95],
    ...overrides,
  });
}

function assertClose(actual: number | undefined, expected: number, relative: number, what: string): void {
  assert.ok(actual !== undefined, `${what} missing`);
  const tolerance = relative * Math.max(1, Math.abs(expected));
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

function assertWellFormed(out: ForecastOutput, horizon: number): void {
  assert.equal(out.forecast.length, horizon);
  for (const p of out.forecast) {
    assert.ok(Number.isFinite(p.value) && p.value >= 0, `value ${p.value}`);
    for (const key of Object.keys(p.lower)) {
      const lower = p.lower[key]!;
      const upper = p.upper[key]!;
      assert.ok(
        lower >= 0 && lower <= p.value && p.value <= upper,
        `${key}: ${lower} ≤ ${p.value} ≤ ${upper}`,
      );
    }
  }
}

test('a pure linear trend is recovered by linear_trend and by seasonal_regression', () => {
  const values = Array.from({ length: 120 }, (_, t) => 100 + 2 * t);
  for (const model of ['linear_trend', 'seasonal_regression'] as const) {
    const out = run(values, { model, horizon: 10, phase: 3 });
    assert.equal(out.model.name, model);
    assert.equal(out.model.transform, 'none');
    assertClose(out.model.coefficients['intercept'], 100, 0.01, `${model} intercept`);
    assertClose(out.model.coefficients['trend'], 2, 0.01, `${model} trend`);
    out.forecast.forEach((p, k) => {
      assertClose(p.value, 100 + 2 * (120 + k), 0.01, `${model} step ${k + 1}`);
    });
    assertWellFormed(out, 10);
  }
  const seasonal = run(values, { model: 'seasonal_regression', horizon: 10 });
  assert.deepEqual(seasonal.model.features, [
    'intercept',
    'trend',
    'dow_1',
    'dow_2',
    'dow_3',
    'dow_4',
    'dow_5',
    'dow_6',
  ]);
  for (let d = 1; d <= 6; d++) assertClose(seasonal.model.coefficients[`dow_${d}`], 0, 0.01, `dow_${d}`);
});

test('a weekly pattern plus noise: MASE < 1, and the 80 % interval covers about 80 % of held-out weeks', () => {
  const horizon = 56; // 8 weeks held out
  let covered80 = 0;
  let covered95 = 0;
  let total = 0;
  for (let seed = 1; seed <= 8; seed++) {
    const values = weeklySeries(420, seed);
    const history = values.slice(0, -horizon);
    const heldOut = values.slice(-horizon);
    const out = run(history, { horizon, model: 'seasonal_regression' });
    assertWellFormed(out, horizon);
    assert.ok(out.backtest.mase !== null && out.backtest.mase < 1, `backtest MASE ${out.backtest.mase}`);
    // Out of sample too: scaled by the in-sample one-week naive MAE of the history.
    let naive = 0;
    for (let t = 7; t < history.length; t++) naive += Math.abs(history[t]! - history[t - 7]!);
    naive /= history.length - 7;
    const mae = heldOut.reduce((s, actual, k) => s + Math.abs(actual - out.forecast[k]!.value), 0) / horizon;
    assert.ok(mae / naive < 1, `held-out MASE ${mae / naive}`);
    heldOut.forEach((actual, k) => {
      const p = out.forecast[k]!;
      if (actual >= p.lower['80']! && actual <= p.upper['80']!) covered80++;
      if (actual >= p.lower['95']! && actual <= p.upper['95']!) covered95++;
      total++;
    });
  }
  const coverage80 = covered80 / total;
  const coverage95 = covered95 / total;
  assert.ok(coverage80 >= 0.7 && coverage80 <= 0.9, `80 % coverage ${coverage80}`);
  assert.ok(coverage95 >= 0.88 && coverage95 <= 0.99, `95 % coverage ${coverage95}`);
});

test('a flat series gives a flat forecast', () => {
  const out = run(new Array<number>(60).fill(42), { horizon: 21 });
  for (const p of out.forecast) {
    assertClose(p.value, 42, 1e-9, 'value');
    assertClose(p.lower['95'], 42, 1e-9, 'lower');
    assertClose(p.upper['95'], 42, 1e-9, 'upper');
  }
  // The naive scale is 0, so MASE is undefined and the tie on MAE goes to the simplest model.
  assert.equal(out.backtest.mase, null);
  assert.equal(out.model.name, 'seasonal_naive');
  assert.match(out.model.reason, /MAE/);
  for (const model of ['linear_trend', 'seasonal_regression'] as const) {
    for (const p of run(new Array<number>(60).fill(42), { model }).forecast)
      assertClose(p.value, 42, 1e-9, model);
  }
});

test('a multiplicative weekly pattern (amplitude proportional to a growing level) picks log1p', () => {
  const z = normal(7);
  const values = Array.from(
    { length: 364 },
    (_, t) => (50 + t) * (1 + 0.6 * Math.sin((2 * Math.PI * t) / 7)) * (1 + 0.03 * z()),
  );
  const out = run(values, { model: 'seasonal_regression', horizon: 14 });
  assert.equal(out.model.transform, 'log1p');
  assert.match(out.model.reason, /log1p/);
  assertWellFormed(out, 14);
  // The weekly swing of the forecast keeps growing with the level instead of staying at its average.
  const lastWeek = values.slice(-7);
  const swing = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
  const forecastSwing = swing(out.forecast.slice(7).map((p) => p.value));
  assert.ok(forecastSwing > 0.95 * swing(lastWeek), `swing ${forecastSwing} vs ${swing(lastWeek)}`);
  // An additive pattern of the same size stays untransformed.
  const additive = weeklySeries(364, 7);
  assert.equal(run(additive, { model: 'seasonal_regression' }).model.transform, 'none');
});

test('month of year: 3 years recover the monthly pattern; a season and 3 points are enough; 14 months fall back', () => {
  const pattern = [0, -20, 10, 30, 50, 80, 90, 70, 40, 20, 60, 150]; // January .. December
  const z = normal(3);
  const phase = 3; // the series starts in April
  const values = Array.from({ length: 36 }, (_, t) => 1000 + 5 * t + pattern[(phase + t) % 12]! + 2 * z());
  const out = forecast({
    values,
    period: 12,
    phase,
    horizon: 12,
    model: 'seasonal_regression',
    levels: [80],
  });
  assert.equal(out.model.name, 'seasonal_regression');
  assert.equal(out.model.features.length, 13);
  for (let month = 2; month <= 12; month++) {
    const got = out.model.coefficients[`month_${month}`]!;
    assert.ok(Math.abs(got - pattern[month - 1]!) < 5, `month_${month}: ${got} vs ${pattern[month - 1]}`);
  }
  assertClose(out.model.coefficients['trend'], 5, 0.05, 'trend');
  out.forecast.forEach((p, k) => {
    assertClose(p.value, 1000 + 5 * (36 + k) + pattern[(phase + 36 + k) % 12]!, 0.01, 'value');
  });

  // Two years less a partial month at each end still fit the season (the old rule wanted 24).
  const twoYears = forecast({
    values: values.slice(0, 23),
    period: 12,
    phase,
    horizon: 3,
    model: 'auto',
    levels: [80],
  });
  assert.ok(!twoYears.warnings.some((w) => /not considered/.test(w)), twoYears.warnings.join());
  assert.match(twoYears.model.reason, /seasonal_regression( \d| had the lowest)/);

  const short = forecast({
    values: values.slice(0, 14),
    period: 12,
    phase,
    horizon: 6,
    model: 'seasonal_regression',
    levels: [80],
  });
  assert.equal(short.model.name, 'linear_trend');
  assert.match(short.model.reason, /a full season and 3 points/);
  assert.ok(
    short.warnings.some((w) => /fell back to linear_trend.*15 points needed, have 14/.test(w)),
    short.warnings.join(),
  );
  const shortAuto = forecast({
    values: values.slice(0, 14),
    period: 12,
    phase,
    horizon: 6,
    model: 'auto',
    levels: [80],
  });
  assert.notEqual(shortAuto.model.name, 'seasonal_regression');
  assert.ok(
    shortAuto.warnings.some((w) => /seasonal_regression not considered/.test(w)),
    shortAuto.warnings.join(),
  );
  assertWellFormed(shortAuto, 6);
});

test('phase lines the dummies up with the calendar', () => {
  const values = weeklySeries(140, 11, 0);
  const fromMonday = run(values, { model: 'seasonal_regression', phase: 0 });
  // The same values, told they start on day 2, put each weekday's effect under a name two later.
  const shifted = run(values, { model: 'seasonal_regression', phase: 2 });
  const effect = (out: ForecastOutput, day: number) =>
    day === 0 ? 0 : out.model.coefficients[`dow_${day}`]!;
  for (let d = 0; d < 7; d++) {
    assertClose(effect(shifted, (d + 2) % 7) - effect(shifted, 2), effect(fromMonday, d), 1e-6, `day ${d}`);
  }
  assert.deepEqual(
    shifted.forecast.map((p) => p.value.toFixed(6)),
    fromMonday.forecast.map((p) => p.value.toFixed(6)),
  );
});

test('intervals widen with the horizon, and forecasts never go below zero', () => {
  // A random-walk level: the further ahead, the less is known.
  const z = normal(5);
  let level = 500;
  const walk = Array.from({ length: 400 }, (_, t) => {
    level += 6 * z();
    return level + WEEK[t % 7]! + 4 * z();
  });
  // Models that follow the level win over the fixed-line ones.
  assert.ok(
    ['seasonal_naive', 'ets', 'theta', 'combination'].includes(run(walk, { horizon: 28 }).model.name),
  );
  for (const model of [
    'auto',
    'linear_trend',
    'seasonal_naive',
    'seasonal_regression',
    'ets',
    'theta',
    'combination',
  ] as const) {
    const out = run(walk, { model, horizon: 28 });
    const widths = out.forecast.map((p) => p.upper['80']! - p.lower['80']!);
    for (let k = 1; k < widths.length; k++) {
      assert.ok(widths[k]! >= widths[k - 1]! - 1e-9, `${model} step ${k + 1}`);
    }
    // Trend models miss the wandering level by about as much tomorrow as in four weeks; the models
    // that follow the level gain a lot of uncertainty with the horizon.
    if (out.model.name === 'seasonal_naive' || out.model.name === 'ets') {
      assert.ok(widths[27]! > 1.5 * widths[0]!, `${model}: ${widths[0]} → ${widths[27]}`);
    }
    assert.ok(
      out.forecast.every((p) => p.upper['95']! - p.lower['95']! >= p.upper['80']! - p.lower['80']! - 1e-9),
    );
  }
  // Without folds the residual fallback widens too.
  const tiny = run([10, 12, 11], { horizon: 6, period: 0 });
  assert.equal(tiny.backtest.folds, 0);
  const tinyWidths = tiny.forecast.map((p) => p.upper['80']! - p.lower['80']!);
  assert.ok(tinyWidths[5]! > tinyWidths[0]!);

  const z2 = normal(9);
  const falling = Array.from({ length: 120 }, (_, t) => Math.max(0, 600 - 5 * t + WEEK[t % 7]! + 5 * z2()));
  for (const model of [
    'auto',
    'linear_trend',
    'seasonal_regression',
    'seasonal_naive',
    'ets',
    'theta',
    'combination',
  ] as const) {
    const out = run(falling, { model, horizon: 60 });
    assertWellFormed(out, 60);
  }
  assert.equal(run(falling, { model: 'linear_trend', horizon: 60 }).forecast.at(-1)!.value, 0);
});

test('excluded indexes are not fitted: a block of zeros marked excluded forecasts like the clean series', () => {
  const clean = weeklySeries(280, 21);
  const block = Array.from({ length: 14 }, (_, i) => 200 + i);
  const holed = clean.map((v, t) => (t >= 200 && t < 214 ? 0 : v));
  for (const model of [
    'seasonal_regression',
    'linear_trend',
    'seasonal_naive',
    'ets',
    'theta',
    'combination',
    'auto',
  ] as const) {
    const withZeros = run(holed, { model, exclude: block });
    const withValues = run(clean, { model, exclude: block });
    // What sits in excluded slots cannot matter at all...
    assert.deepEqual(withZeros, withValues, model);
    assert.deepEqual(
      withZeros.warnings.filter((w) => /left out/.test(w)),
      ['14 periods left out of fitting'],
    );
    // ...and the forecast stays close to the one fitted on every point.
    const all = run(clean, { model });
    withZeros.forecast.forEach((p, k) => {
      assertClose(p.value, all.forecast[k]!.value, 0.05, `${model} step ${k + 1}`);
    });
  }
  // Not excluding them drags the level down.
  const dragged = run(holed, { model: 'seasonal_regression' });
  const kept = run(holed, { model: 'seasonal_regression', exclude: block });
  assert.ok(dragged.forecast[0]!.value < kept.forecast[0]!.value - 5);

  // An excluded tail (a stock-out now): the seasonal naive skips back whole weeks to real sales.
  const tail = Array.from({ length: 10 }, (_, i) => 270 + i);
  const stockOut = clean.map((v, t) => (t >= 270 ? 0 : v));
  const naive = run(stockOut, { model: 'seasonal_naive', exclude: tail, horizon: 7 });
  naive.forecast.forEach((p, k) => {
    let source = 280 + k - 7;
    while (source >= 270) source -= 7;
    assert.equal(p.value, clean[source]);
  });
  assert.ok(naive.backtest.folds >= 3);
});

test('auto prefers the combination on a seasonal series and says why; baseline metrics are present', () => {
  const out = run(weeklySeries(365, 4), { horizon: 28 });
  assert.equal(out.model.name, 'combination');
  assert.match(
    out.model.reason,
    /^auto: combination (chosen, no single model beat its backtest MASE by 20 %|had the lowest backtest MASE) \(\d+\.\d\d vs seasonal_naive \d+\.\d\d, linear_trend \d+\.\d\d, theta \d+\.\d\d, ets \d+\.\d\d, seasonal_regression \d+\.\d\d\); mean of ets \(ETS\(A,/,
  );
  const { backtest } = out;
  assert.equal(backtest.method, 'rolling_origin');
  assert.ok(backtest.folds >= 3 && backtest.folds <= 6);
  assert.equal(backtest.horizon, 28);
  for (const v of [backtest.mae, backtest.rmse, backtest.mape, backtest.smape, backtest.mase]) {
    assert.ok(typeof v === 'number' && v >= 0);
  }
  assert.equal(backtest.baseline.name, 'seasonal_naive');
  assert.ok(typeof backtest.baseline.mae === 'number' && typeof backtest.baseline.mase === 'number');
  assert.ok(backtest.mae! < backtest.baseline.mae!);
  assert.deepEqual(Object.keys(out.forecast[0]!.lower).sort(), ['80', '95']);

  // MAPE is null once an actual in a test window is 0; sMAPE still counts.
  const withZero = weeklySeries(365, 4).map((v, t) => (t === 360 ? 0 : v));
  const zeroOut = run(withZero, { horizon: 28 });
  assert.equal(zeroOut.backtest.mape, null);
  assert.equal(typeof zeroOut.backtest.smape, 'number');

  // A plain trend is not seasonal: auto does not pick the seasonal naive.
  const z = normal(8);
  const trend = Array.from({ length: 200 }, (_, t) => 100 + 3 * t + 5 * z());
  assert.notEqual(run(trend).model.name, 'seasonal_naive');
});

test('InsufficientHistoryError when fewer than 3 points can be fitted; bad arguments are RangeErrors', () => {
  for (const [values, exclude] of [
    [[], []],
    [[5, 7], []],
    [[5, 7, 9], [1]],
    [[5, Number.NaN, 9], []],
  ] as [number[], number[]][]) {
    assert.throws(
      () => run(values, { exclude }),
      (err: unknown) =>
        err instanceof InsufficientHistoryError &&
        err.needed === 3 &&
        err.have === values.filter((v, i) => Number.isFinite(v) && !exclude.includes(i)).length &&
        /at least 3/.test(err.message),
    );
  }
  const three = run([5, 7, 9], { horizon: 3 });
  assert.equal(three.model.name, 'linear_trend');
  assert.equal(three.backtest.folds, 0);
  assert.equal(three.backtest.mae, null);
  assertWellFormed(three, 3);
  assert.throws(() => run([1, 2, 3, 4], { horizon: 0 }), RangeError);
  assert.throws(() => run([1, 2, 3, 4], { levels: [100] }), RangeError);
  assert.throws(() => run([1, 2, 3, 4], { period: -1 }), RangeError);
});

test('speed: 730 days, horizon 28, auto (median reported, not asserted)', (t) => {
  const values = weeklySeries(730, 99);
  const input: ForecastInput = { values, period: 7, phase: 0, horizon: 28, model: 'auto', levels: [80, 95] };
  for (let i = 0; i < 5; i++) forecast(input);
  const times: number[] = [];
  for (let i = 0; i < 21; i++) {
    const started = performance.now();
    forecast(input);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  t.diagnostic(`forecast 730 days / h=28 / auto: median ${times[10]!.toFixed(1)} ms`);
});

test('auto chooses on the folds before the last horizon; the metrics and coverage score that last fold', () => {
  const values = weeklySeries(365, 12);
  const horizon = 28;
  const out = run(values, { horizon });
  assert.equal(out.backtest.horizon, horizon);
  assert.deepEqual(out.backtest.scored, { from: 365 - horizon, steps: horizon });
  // Rewriting the last horizon changes what is scored, never what was chosen or why.
  const z = normal(99);
  const shaken = values.map((v, t) => (t >= 365 - horizon ? v + 40 * z() : v));
  const again = run(shaken, { horizon });
  assert.equal(again.model.name, out.model.name);
  assert.equal(again.model.reason.split(';')[0], out.model.reason.split(';')[0]);
  assert.notEqual(again.backtest.mae, out.backtest.mae);
  assert.ok(again.backtest.mae! > out.backtest.mae!, 'noise in the scored fold shows in its metrics');
  for (const level of ['80', '95']) {
    const c = out.backtest.coverage[level];
    assert.ok(typeof c === 'number' && c >= 0 && c <= 1, `coverage ${level}: ${c}`);
  }
  assert.ok(out.backtest.coverage['95']! >= out.backtest.coverage['80']!);
  // No fold at all: nothing to score, no coverage.
  const tiny = run([10, 12, 11], { horizon: 3, period: 0 });
  assert.deepEqual(tiny.backtest.coverage, { '80': null, '95': null });
  assert.deepEqual(tiny.backtest.scored, { from: 3, steps: 0 });
});

test('conformal intervals: the 80 % band of auto covers about 80 % of held-out points', () => {
  let covered = 0;
  let total = 0;
  for (let seed = 30; seed < 38; seed++) {
    const z = normal(seed);
    let level = 400;
    const values = Array.from({ length: 392 }, (_, t) => {
      level += 2 * z();
      return level * (1 + 0.2 * Math.sin((2 * Math.PI * t) / 7)) + 8 * z();
    });
    const history = values.slice(0, -28);
    const out = run(history, { horizon: 28 });
    values.slice(-28).forEach((actual, k) => {
      const p = out.forecast[k]!;
      if (actual >= p.lower['80']! && actual <= p.upper['80']!) covered++;
      total++;
    });
  }
  assert.ok(covered / total >= 0.7 && covered / total <= 0.9, `80 % coverage ${covered / total}`);
});
