/**
 * A report as a format-neutral document: the report builders fill it from the analytics services
 * (every figure comes from there), and the PDF and XLSX renderers draw it. Renderers never compute a
 * figure; builders never know about pages or cells.
 *
 * Values are already rounded as the API rounds them (money to cents, percentages to 2 decimals).
 * Percentages are percent values (43.21 means 43.21 %), as the API's `*Pct` fields; a workbook
 * stores them as fractions with a percent format.
 * Determinism: nothing here reads the clock; `producedAt` comes from the request (the job's record).
 */

import type { REPORT_FORMATS, REPORT_TYPES } from '../../models/reports.ts';

export type ReportType = (typeof REPORT_TYPES)[number];
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/**
 * How a column's values are shown:
 * - money: currency amount (2 decimals, thousands separators)
 * - int / number: counts / quantities (number: up to 3 decimals)
 * - pct: a percentage value such as 43.21 (meaning 43.21 %)
 * - growth: a percentage change such as -4.5; coloured green up / red down, with an arrow
 * - points: a change of a percentage in percentage points (43.71 % against 44.05 % is -0.34),
 *   coloured and with an arrow like growth
 * - date: an ISO day (YYYY-MM-DD), a real date in a workbook
 * - text: anything else (names, ids)
 */
export type CellType = 'text' | 'money' | 'int' | 'number' | 'pct' | 'growth' | 'points' | 'date';
export type CellValue = string | number | null;

export interface Column {
  key: string;
  title: string;
  type: CellType;
}

export interface TableSection {
  kind: 'table';
  title: string;
  /** a short sheet name for the workbook (the title goes in the sheet's first row) */
  sheet?: string;
  /** e.g. "Top 50 of 73 brands by revenue" */
  note?: string;
  /** the PDF shows only the first `pdfRows` rows (long lists), with `pdfNote` instead of `note` */
  pdfRows?: number;
  pdfNote?: string;
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
  /** pt: `growth` holds changes in percentage points (a margin), not relative changes */
  changeUnit?: 'pct' | 'pt';
}

export interface KpiSection {
  kind: 'kpis';
  title: string;
  sheet?: string;
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
  /** the sheet of its data in the workbook, named for the chart */
  sheet?: string;
  chart: 'line' | 'bar';
  xTitle: string;
  yTitle: string;
  /** the unit of y, for axis labels: money or a count */
  yType: 'money' | 'int';
  /** bars keep the order of the points (buckets of a distribution) instead of the largest first */
  keepOrder?: boolean;
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
  /** ISO: when the report was asked for (from the job's record, not the clock at render time) */
  producedAt: string;
  /** ISO 4217 code of the money figures (default EUR) and the locale numbers are written for (en-GB) */
  currency?: string;
  locale?: string;
  sections: Section[];
}
