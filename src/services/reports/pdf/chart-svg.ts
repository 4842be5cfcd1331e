/**
 * A ChartSection as an SVG string: a Vega-Lite spec, compiled and rendered by Vega without a canvas
 * (renderer 'none'), so the PDF gets vector graphics and the server needs no native module.
 *
 * Without a canvas Vega guesses text widths (0.8 em a character, far too wide for this font), which
 * cuts labels short and leaves holes in the layout. Vega lets a headless user supply the measure: we
 * give it the advance widths of the font the PDF draws the SVG with, which is also the same on every
 * machine.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ChartSection } from '../report-types.ts';
import { textWidth } from './fonts.ts';

interface TextItem {
  fontSize?: number | string;
  fontWeight?: string | number;
  limit?: number;
}

/** vega-scenegraph's hook (re-exported by vega at run time, absent from its typings). */
const { textMetrics } = vega as unknown as {
  textMetrics: { width: (item: TextItem, text: unknown) => number };
};

textMetrics.width = (item, text) => {
  const size = item.fontSize === undefined ? 11 : Number(item.fontSize) || 0;
  const line = text == null ? '' : String(text).trim();
  if (size <= 0 || line === '') return 0;
  const weight = item.fontWeight;
  const bold = weight === 'bold' || (typeof weight === 'number' && weight >= 600);
  const width = textWidth(line, size, bold);
  // Vega asks both for a label's drawn width (truncated to `limit`) and, while truncating, for the
  // full width of candidate prefixes: capping at the limit answers the first and keeps every
  // comparison of the second (against limit minus the ellipsis) as it would be.
  return item.limit !== undefined && item.limit > 0 ? Math.min(width, item.limit) : width;
};

export interface ChartStyle {
  /** the font family name as the PDF document knows it: the SVG's text is drawn with it */
  font: string;
  width: number;
  height: number;
}

/** Colour for the screen, dash pattern for black-and-white printing: series stay distinguishable. */
const SERIES_COLORS = ['#1f5aa6', '#e07b1f', '#2e8b57', '#8e44ad', '#c0392b', '#7f8c8d'];
const SERIES_DASHES = [
  [1, 0],
  [6, 3],
  [2, 2],
  [8, 3, 2, 3],
  [4, 4],
  [1, 3],
];
const INK = '#374151';
const GRID = '#e5e7eb';
const LABEL_SIZE = 8;
const Y_TICKS = 5;

/** ISO days, months or weeks: such x values have an order of their own that a sort would destroy. */
const ORDERED_X = /^\d{4}-(\d{2}(-\d{2})?|W\d{2})$/;

interface Datum {
  series: string;
  x: string;
  y: number;
}

function data(section: ChartSection): Datum[] {
  return section.series.flatMap((s) =>
    s.points.filter((p) => Number.isFinite(p.y)).map((p) => ({ series: s.name, x: p.x, y: p.y })),
  );
}

function yAxisFormat(section: ChartSection): { format: string; tickMinStep?: number } {
  // Axis ticks are round numbers: cents would only add noise, but small ranges still need decimals.
  return section.yType === 'money' ? { format: ',.2~f' } : { format: ',~d', tickMinStep: 1 };
}

function baseConfig(style: ChartStyle) {
  return {
    font: style.font,
    // ARIA attributes mean nothing in a PDF and only make the SVG longer to parse.
    aria: false,
    axis: {
      labelFontSize: LABEL_SIZE,
      titleFontSize: 8.5,
      titleFontWeight: 'normal' as const,
      labelColor: INK,
      titleColor: INK,
      domainColor: '#9ca3af',
      tickColor: '#9ca3af',
      gridColor: GRID,
    },
    legend: {
      labelFontSize: LABEL_SIZE,
      labelColor: INK,
      orient: 'top' as const,
      offset: 6,
      padding: 0,
      symbolStrokeWidth: 2,
    },
    view: { stroke: null },
  };
}

function seriesScales(section: ChartSection, symbolType: 'stroke' | 'square') {
  const names = section.series.map((s) => s.name);
  return {
    color: { domain: names, range: names.map((_, i) => SERIES_COLORS[i % SERIES_COLORS.length]!) },
    dash: { domain: names, range: names.map((_, i) => SERIES_DASHES[i % SERIES_DASHES.length]!) },
    legend: names.length > 1 ? { title: null, symbolType } : null,
  };
}

const DAY_MS = 86_400_000;

/**
 * Labels on whole days, counted back from the last one (the day the report is about), at most about
 * nine of them; on long ranges, whole months. Left to itself the time scale puts ticks at noon on short
 * ranges (a day-only label shown twice) and restarts its day count at every month.
 */
function timeTicks(values: Datum[]) {
  const times = values.map((v) => Date.parse(v.x));
  const first = Math.min(...times);
  const last = Math.max(...times);
  const span = (last - first) / DAY_MS;
  if (span <= 92) {
    const step = Math.max(1, Math.ceil((span + 1) / 9)) * DAY_MS;
    const ticks: number[] = [];
    for (let t = last; t >= first; t -= step) ticks.unshift(t);
    return { format: '%-d %b', values: ticks };
  }
  const months = span / 30.44;
  return {
    format: '%b %Y',
    tickCount: { interval: 'month' as const, step: Math.max(1, Math.ceil(months / 9)) },
  };
}

function lineSpec(section: ChartSection, values: Datum[], style: ChartStyle): TopLevelSpec {
  const scales = seriesScales(section, 'stroke');
  const longest = Math.max(...section.series.map((s) => s.points.length));
  // Dates get a time axis; anything else (week keys, say) is drawn in the order it came.
  const temporal = values.every((v) => Number.isFinite(Date.parse(v.x)));
  const x = temporal
    ? {
        field: 'x',
        type: 'temporal' as const,
        title: section.xTitle,
        // The document's dates are calendar days: UTC keeps them on their own day on any server.
        scale: { type: 'utc' as const },
        axis: { ...timeTicks(values), labelAngle: 0, grid: false, labelOverlap: true },
      }
    : {
        field: 'x',
        type: 'ordinal' as const,
        title: section.xTitle,
        sort: null,
        axis: { labelAngle: 0, grid: false, labelOverlap: true },
      };
  return {
    ...frame(style, values),
    mark: { type: 'line', strokeWidth: 1.6, point: longest <= 40 ? { size: 14, filled: true } : false },
    encoding: {
      x,
      y: {
        field: 'y',
        type: 'quantitative',
        title: section.yTitle,
        // The same count for both, so the top of the plot is a labelled gridline.
        scale: { zero: false, nice: Y_TICKS },
        axis: { ...yAxisFormat(section), tickCount: Y_TICKS },
      },
      color: { field: 'series', type: 'nominal', scale: scales.color, legend: scales.legend },
      strokeDash: { field: 'series', type: 'nominal', scale: scales.dash, legend: scales.legend },
    },
  };
}

/** What every chart shares: its box, white background, theme and data. */
function frame(style: ChartStyle, values: Datum[]) {
  return {
    width: style.width,
    height: style.height,
    autosize: { type: 'fit' as const, contains: 'padding' as const },
    padding: 2,
    background: 'white',
    config: baseConfig(style),
    data: { values },
  };
}

/** Upright labels when they fit side by side, else slanted, else vertical (and smaller if need be). */
function barLabels(categories: string[], width: number): { angle: number; size: number } {
  const step = (width * 0.88) / Math.max(1, categories.length);
  const longest = Math.max(...categories.map((x) => textWidth(x, LABEL_SIZE)));
  if (longest <= step * 0.95) return { angle: 0, size: LABEL_SIZE };
  if (step * Math.SQRT1_2 >= LABEL_SIZE + 1.5) return { angle: -45, size: LABEL_SIZE };
  return { angle: -90, size: Math.max(5.5, Math.min(LABEL_SIZE, step - 1.5)) };
}

function barSpec(section: ChartSection, values: Datum[], style: ChartStyle): TopLevelSpec {
  const scales = seriesScales(section, 'square');
  const categories = [...new Set(values.map((v) => v.x))];
  const ordered = section.keepOrder === true || categories.every((x) => ORDERED_X.test(x));
  const labels = barLabels(categories, style.width);
  const multi = section.series.length > 1;
  return {
    ...frame(style, values),
    mark: { type: 'bar' },
    encoding: {
      x: {
        field: 'x',
        type: 'nominal',
        title: section.xTitle,
        sort: ordered ? null : { field: 'y', op: 'sum', order: 'descending' },
        scale: { paddingInner: 0.2, paddingOuter: 0.1 },
        axis: {
          labelAngle: labels.angle,
          labelFontSize: labels.size,
          labelLimit: 100,
          labelOverlap: labels.size < 6,
          ticks: false,
        },
      },
      ...(multi ? { xOffset: { field: 'series', type: 'nominal', sort: scales.color.domain } } : {}),
      y: {
        field: 'y',
        type: 'quantitative',
        title: section.yTitle,
        // Side by side, not stacked: each bar is one figure of the document.
        stack: null,
        scale: { nice: Y_TICKS },
        axis: { ...yAxisFormat(section), tickCount: Y_TICKS },
      },
      color: { field: 'series', type: 'nominal', scale: scales.color, legend: scales.legend },
    },
  };
}

export function chartSpec(section: ChartSection, style: ChartStyle): TopLevelSpec | null {
  const values = data(section);
  if (values.length === 0) return null;
  return section.chart === 'line' ? lineSpec(section, values, style) : barSpec(section, values, style);
}

/** The chart as an SVG document, or null when there is nothing to draw. */
export async function chartSvg(section: ChartSection, style: ChartStyle): Promise<string | null> {
  const spec = chartSpec(section, style);
  if (spec === null) return null;
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
