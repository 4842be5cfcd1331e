/**
 * A report as a format-neutral document: the report builders fill it from the analytics services
 * (every figure comes from there), and the PDF and XLSX renderers draw it. Renderers never compute a
 * figure; builders never know about pages or cells.
 *
 * Values are already rounded as the API rounds them (money to cents, percentages to 2 decimals).
 * Determinism: nothing here reads the clock; `producedAt` is derived from the data.
 */

export const REPORT_TYPES = ['daily', 'weekly', 'monthly', 'sales_stock', 'sales_lines'] as const;
export type ReportType = (typeof REPORT_TYPES)[number];
export const REPORT_FORMATS = ['pdf', 'xlsx', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/**
 * How a column's values are shown:
 * - money: currency amount (2 decimals, thousands separators)
 * - int / number: counts / quantities (number: up to 3 decimals)
 * - pct: a percentage value such as 43.21 (meaning 43.21 %)
 * - growth: a percentage change such as -4.5; coloured green up / red down, with an arrow
 * - share: a fraction 0..1 shown as a percentage
 * - text: anything else (names, ids, dates as text)
 */
export type CellType = 'text' | 'money' | 'int' | 'number' | 'pct' | 'growth' | 'share';
export type CellValue = string | number | null;

export interface Column {
  key: string;
  title: string;
  type: CellType;
}

export interface TableSection {
  kind: 'table';
  title: string;
  /** e.g. "Top 50 of 73 brands by revenue" */
  note?: string;
  columns: Column[];
  rows: Record<string, CellValue>[];
  /** an optional totals row, drawn after the rows */
  totals?: Record<string, CellValue>;
}

export interface KpiItem {
  label: string;
  value: CellValue;
  type: CellType;
  /** growth percentages against the report's comparisons, in the order of `KpiSection.against` */
  growth: (number | null)[];
  /** the comparison figures themselves, same order */
  previous: CellValue[];
}

export interface KpiSection {
  kind: 'kpis';
  title: string;
  /** labels of the comparisons, e.g. ["vs 7-day average", "vs same weekday, 4 weeks"] */
  against: string[];
  items: KpiItem[];
}

export interface ChartSeries {
  name: string;
  /** x values: ISO dates (temporal charts) or labels (bar charts) */
  points: { x: string; y: number }[];
}

export interface ChartSection {
  kind: 'chart';
  title: string;
  chart: 'line' | 'bar';
  xTitle: string;
  yTitle: string;
  /** the unit of y, for axis labels: money or a count */
  yType: 'money' | 'int';
  series: ChartSeries[];
}

export type Section = TableSection | KpiSection | ChartSection;

export interface ReportDocument {
  type: ReportType;
  title: string;
  /** e.g. "Monday 16 November 2026" or "Week 2026-W46 (9–15 November 2026)" */
  periodLabel: string;
  period: { from: string; to: string };
  /** the slice, e.g. "Store: Paris Rivoli" ("All stores" when unfiltered) */
  scope: string;
  /** ISO: when the oldest data used was read from the system of record */
  dataAsOf: string | null;
  /** false: a day is open, could not be re-read, or the catalog is stale: said on the first page */
  complete: boolean;
  /** ISO, derived from the data (not the clock) so the same request over the same data is identical */
  producedAt: string;
  sections: Section[];
}
