/** Tables in the PDF: how wide a table needs to be (which picks the orientation), and its drawing. */
import type { Content, CustomTableLayout, TableCell } from 'pdfmake/interfaces.js';
import type { CellValue, Column, TableSection } from '../report-types.ts';
import { textWidth } from './fonts.ts';
import { decimalsOf, type Formatter, isNumericType, MUTED_COLOR, NBSP } from './format.ts';
import {
  CELL_PADDING_X,
  emptyNote,
  HEADER_FILL,
  RULE,
  sectionTitle,
  TOTALS_FILL,
  ZEBRA_FILL,
} from './pdf-style.ts';

function longestWord(text: string, size: number, bold: boolean): number {
  return Math.max(0, ...text.split(/\s+/).map((w) => textWidth(w, size, bold)));
}

interface TableWidths {
  /** the narrowest the table can be: numbers never wrap, text wraps at spaces (keeping a few words) */
  min: number;
  /** the width with nothing wrapped */
  natural: number;
}

/** The rows the PDF shows: a long list only its first `pdfRows`. */
function shownRows(section: TableSection): TableSection['rows'] {
  return section.pdfRows === undefined ? section.rows : section.rows.slice(0, section.pdfRows);
}

/** A column's header: money columns say their currency, e.g. "Revenue (€)". */
function columnTitle(col: Column, fmt: Formatter): string {
  return col.type === 'money' ? `${col.title}${NBSP}(${fmt.symbol})` : col.title;
}

export function measureTable(section: TableSection, fmt: Formatter): TableWidths {
  const size = tableFontSize(section);
  const rows = section.totals ? [...shownRows(section), section.totals] : shownRows(section);
  const widths = { min: 0, natural: 0 };
  for (const col of section.columns) {
    const numeric = isNumericType(col.type);
    const decimals = decimalsOf(rows.map((r) => r[col.key] ?? null));
    const title = columnTitle(col, fmt);
    // headers are not wrapped: "Previous week" or "Product id" over two lines makes the header tall
    let min = textWidth(title, size, true);
    let natural = textWidth(title, size, true);
    for (const row of rows) {
      const text = fmt.cell(row[col.key] ?? null, col.type, decimals).text;
      const full = textWidth(text, size, row === section.totals);
      min = Math.max(min, numeric ? full : Math.min(longestWord(text, size, false), 60));
      natural = Math.max(natural, full);
    }
    widths.min += min + 2 * CELL_PADDING_X;
    widths.natural += natural + 2 * CELL_PADDING_X;
  }
  return widths;
}

export function tableFontSize(section: TableSection): number {
  return section.columns.length >= 10 ? 7.5 : 8;
}

/**
 * Text columns share the slack; a short code column (an id) keeps its natural width. A table much
 * narrower than the page is not stretched: a label a page-width away from its figure is hard to read.
 */
function columnWidths(section: TableSection, width: number, fmt: Formatter): ('*' | 'auto')[] {
  if (measureTable(section, fmt).natural <= width * 0.55) return section.columns.map(() => 'auto');
  const textual = section.columns.map((c) => {
    if (isNumericType(c.type)) return 0;
    return Math.max(0, ...shownRows(section).map((r) => String(r[c.key] ?? '').length));
  });
  const wide = textual.map((chars) => chars > 16);
  if (!wide.some(Boolean)) {
    const first = section.columns.findIndex((c) => !isNumericType(c.type));
    if (first >= 0) wide[first] = true;
  }
  return wide.map((w) => (w ? '*' : 'auto'));
}

function bodyCell(
  row: Record<string, CellValue>,
  col: Column,
  style: { fontSize: number; decimals: number; fmt: Formatter },
  totals: boolean,
): TableCell {
  const value = row[col.key];
  // A totals row leaves out what has no total (a product id): blank, not the dash of a missing figure.
  const shown =
    value === undefined && totals ? { text: '' } : style.fmt.cell(value ?? null, col.type, style.decimals);
  const numeric = isNumericType(col.type);
  return {
    text: shown.text,
    fontSize: style.fontSize,
    bold: totals,
    ...(shown.color ? { color: shown.color } : {}),
    ...(numeric ? { alignment: 'right' as const, noWrap: true } : {}),
  };
}

export function tableSection(section: TableSection, width: number, fmt: Formatter): Content {
  const cols = section.columns;
  const rows = shownRows(section);
  const note = section.pdfRows === undefined ? section.note : (section.pdfNote ?? section.note);
  const fontSize = tableFontSize(section);
  const span = Math.max(cols.length, 1);
  const placeholders = (n: number): TableCell[] => Array.from({ length: n }, () => ({ text: '' }));

  // The title rides in the repeated header rows, so every page of a long table says what it is.
  const titleRow: TableCell[] = [
    {
      colSpan: span,
      margin: [-CELL_PADDING_X, 0, -CELL_PADDING_X, 3],
      stack: [
        sectionTitle(section.title),
        ...(note
          ? [{ text: note, italics: true, fontSize: 8, color: MUTED_COLOR, margin: [0, -3, 0, 2] }]
          : []),
      ] as Content[],
    },
    ...placeholders(span - 1),
  ];
  const headerRow: TableCell[] = cols.map((c) => ({
    text: columnTitle(c, fmt),
    bold: true,
    color: 'white',
    fontSize,
    noWrap: true,
    ...(isNumericType(c.type) ? { alignment: 'right' as const } : {}),
  }));
  const allRows = section.totals ? [...rows, section.totals] : rows;
  const styles = cols.map((c) => ({
    fontSize,
    fmt,
    decimals: decimalsOf(allRows.map((r) => r[c.key] ?? null)),
  }));
  const cells = (row: Record<string, CellValue>, totals: boolean) =>
    cols.map((c, i) => bodyCell(row, c, styles[i]!, totals));
  const body: TableCell[][] = [titleRow, headerRow];
  for (const row of rows) body.push(cells(row, false));
  if (rows.length === 0) {
    body.push([{ colSpan: span, ...emptyNote('No rows for this period.') }, ...placeholders(span - 1)]);
  }
  const totalsIndex = section.totals ? body.length : -1;
  if (section.totals) {
    body.push(cells(section.totals, true));
  }

  const layout: CustomTableLayout = {
    hLineWidth: (i, node) => {
      if (i <= 2) return 0;
      if (i === totalsIndex) return 0.8;
      return i === node.table.body.length ? 0.6 : 0.25;
    },
    hLineColor: (i) => (i === totalsIndex ? '#4b5563' : RULE),
    vLineWidth: () => 0,
    fillColor: (rowIndex) => {
      if (rowIndex === 0) return null;
      if (rowIndex === 1) return HEADER_FILL;
      if (rowIndex === totalsIndex) return TOTALS_FILL;
      return rowIndex % 2 === 1 ? ZEBRA_FILL : null;
    },
    paddingLeft: () => CELL_PADDING_X,
    paddingRight: () => CELL_PADDING_X,
    paddingTop: (i) => (i === 1 ? 4 : 2.2),
    paddingBottom: (i) => (i === 1 ? 4 : 2.2),
  };

  return {
    table: {
      headerRows: 2,
      keepWithHeaderRows: 1,
      dontBreakRows: true,
      widths: columnWidths(section, width, fmt),
      body,
    },
    layout,
  };
}
