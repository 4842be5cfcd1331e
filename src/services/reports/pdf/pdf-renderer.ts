/**
 * The PDF renderer: draws a ReportDocument with pdfmake (tables, KPI cards) and Vega (charts as SVG).
 *
 * Determinism: the same document gives a byte-identical PDF. pdfkit derives the file /ID from the
 * info dictionary, whose dates come from `producedAt` and which carries a digest of the document, so
 * the ID follows the content and never the clock; fonts are subset the same way every time.
 */
import { createHash } from 'node:crypto';
import pdfMake from 'pdfmake';
import type {
  Content,
  CustomTableLayout,
  TableCell,
  TDocumentDefinitions,
  TDocumentInformation,
  TFontDictionary,
} from 'pdfmake/interfaces.js';
import type {
  CellValue,
  ChartSection,
  Column,
  KpiItem,
  KpiSection,
  ReportDocument,
  Section,
  TableSection,
} from '../report-types.ts';
import { chartSvg } from './chart-svg.ts';
import { FONT, FONT_FILES, textWidth } from './fonts.ts';
import {
  decimalsOf,
  type Formatter,
  formatTimestamp,
  formatterFor,
  isNumericType,
  MUTED_COLOR,
  NBSP,
} from './format.ts';

const ALLOWED_FILES = new Set<string>(Object.values(FONT_FILES));

const A4 = { width: 595.28, height: 841.89 };
const MARGIN_X = 40;
const MARGIN_TOP = 58;
const MARGIN_BOTTOM = 48;

const INK = '#1f2937';
const HEADER_FILL = '#1f3a5f';
const ZEBRA_FILL = '#f4f6f9';
const TOTALS_FILL = '#e3e9f1';
const RULE = '#d1d5db';
const CARD_FILL = '#f2f5f9';
const WARN_FILL = '#fff4e5';
const WARN_BORDER = '#d9822b';
const WARN_INK = '#8a3b00';

const CELL_PADDING_X = 4;

type Orientation = 'portrait' | 'landscape';

function contentWidth(orientation: Orientation): number {
  return (orientation === 'portrait' ? A4.width : A4.height) - 2 * MARGIN_X;
}

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

function measureTable(section: TableSection, fmt: Formatter): TableWidths {
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

function tableFontSize(section: TableSection): number {
  return section.columns.length >= 10 ? 7.5 : 8;
}

/** One orientation for the whole report: landscape only when a table would not fit upright. */
function chooseOrientation(doc: ReportDocument, fmt: Formatter): Orientation {
  const tooWide = doc.sections.some(
    (s) => s.kind === 'table' && measureTable(s, fmt).min > contentWidth('portrait'),
  );
  return tooWide ? 'landscape' : 'portrait';
}

function fonts(): TFontDictionary {
  // A fresh object per document: pdfmake rewrites the descriptors while resolving them.
  return { [FONT]: { ...FONT_FILES } };
}

// ---------------------------------------------------------------------------------------------
// First page, header, footer

function freshnessLine(doc: ReportDocument): string {
  const asOf = doc.dataAsOf === null ? 'unknown' : formatTimestamp(doc.dataAsOf);
  return `Data as of ${asOf}${NBSP}·${NBSP}Produced ${formatTimestamp(doc.producedAt)}`;
}

function titleBlock(doc: ReportDocument): Content[] {
  const blocks: Content[] = [
    { text: doc.title, fontSize: 20, bold: true, color: INK },
    { text: doc.periodLabel, fontSize: 13, color: INK, margin: [0, 3, 0, 0] },
    { text: doc.scope, fontSize: 10.5, color: MUTED_COLOR, margin: [0, 2, 0, 0] },
    { text: freshnessLine(doc), fontSize: 8.5, color: MUTED_COLOR, margin: [0, 6, 0, 0] },
  ];
  if (!doc.complete) blocks.push(incompleteWarning());
  return blocks;
}

function incompleteWarning(): Content {
  return {
    margin: [0, 12, 0, 0],
    table: {
      widths: ['*'],
      body: [
        [
          {
            fillColor: WARN_FILL,
            margin: [6, 5, 6, 5],
            stack: [
              { text: 'Incomplete data', bold: true, fontSize: 11, color: WARN_INK },
              {
                text:
                  'The period includes a day that is still open or could not be re-read from the system ' +
                  'of record, or the catalog is stale. Figures in this report may still change.',
                fontSize: 9,
                color: INK,
                margin: [0, 2, 0, 0],
              },
            ],
          },
        ],
      ],
    },
    layout: {
      hLineWidth: () => 1,
      vLineWidth: (i: number) => (i === 0 ? 4 : 1),
      hLineColor: () => WARN_BORDER,
      vLineColor: () => WARN_BORDER,
    },
  };
}

/** `text` cut with an ellipsis to fit `width`: the running header must stay on one line. */
function fitText(text: string, width: number, size: number, bold = false): string {
  if (textWidth(text, size, bold) <= width) return text;
  const chars = [...text];
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (textWidth(`${chars.slice(0, mid).join('').trimEnd()}…`, size, bold) <= width) lo = mid;
    else hi = mid - 1;
  }
  return `${chars.slice(0, lo).join('').trimEnd()}…`;
}

function pageHeader(doc: ReportDocument, width: number) {
  const size = 8;
  const gap = 12;
  const title = fitText(doc.title, width * 0.4, size, true);
  const rest = fitText(
    `${doc.periodLabel}${NBSP}·${NBSP}${doc.scope}`,
    width - textWidth(title, size, true) - gap - 2,
    size,
  );
  return (): Content => ({
    margin: [MARGIN_X, 22, MARGIN_X, 0],
    stack: [
      {
        columns: [
          { text: title, bold: true, width: 'auto', noWrap: true },
          { text: rest, alignment: 'right', width: '*', noWrap: true },
        ],
        columnGap: gap,
        fontSize: size,
        color: MUTED_COLOR,
      },
      { canvas: [{ type: 'line', x1: 0, y1: 4, x2: width, y2: 4, lineWidth: 0.5, lineColor: RULE }] },
    ],
  });
}

function pageFooter(doc: ReportDocument, width: number) {
  const line = freshnessLine(doc);
  return (currentPage: number, pageCount: number): Content => ({
    margin: [MARGIN_X, 12, MARGIN_X, 0],
    stack: [
      { canvas: [{ type: 'line', x1: 0, y1: 0, x2: width, y2: 0, lineWidth: 0.5, lineColor: RULE }] },
      {
        margin: [0, 4, 0, 0],
        columns: [
          {
            width: '*',
            text: doc.complete
              ? line
              : [line, `${NBSP}·${NBSP}`, { text: 'Incomplete data', bold: true, color: WARN_INK }],
          },
          { text: `Page ${currentPage} of ${pageCount}`, alignment: 'right', width: 'auto' },
        ],
        columnGap: 12,
        fontSize: 7.5,
        color: MUTED_COLOR,
      },
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// Sections

function sectionTitle(title: string): Content {
  return { text: title, fontSize: 12, bold: true, color: INK, margin: [0, 0, 0, 5] };
}

function cardsPerRow(count: number, width: number): number {
  const most = Math.max(1, Math.floor(width / 125));
  if (count <= most) return count;
  // Rows of equal length where possible: 6 cards as 3 + 3 rather than 4 + 2.
  for (let n = most; n >= 2; n--) if (count % n === 0) return n;
  return Math.min(most, 3);
}

/** A headline figure: money with its currency symbol. */
function kpiValue(value: KpiItem['value'], type: KpiItem['type'], fmt: Formatter) {
  return type === 'money' && typeof value === 'number'
    ? { text: fmt.currency(value) }
    : fmt.cell(value, type);
}

function kpiCard(item: KpiItem, against: string[], fmt: Formatter): TableCell {
  const value = kpiValue(item.value, item.type, fmt);
  const comparisons: Content[] = against.map((label, i) => {
    const growth = fmt.growth(item.growth[i] ?? null, item.changeUnit);
    const previous = kpiValue(item.previous[i] ?? null, item.type, fmt);
    return {
      margin: [0, 5, 0, 0],
      columns: [
        {
          width: '*',
          stack: [
            { text: label, fontSize: 7, color: MUTED_COLOR },
            { text: previous.text, fontSize: 8, color: previous.color ?? INK },
          ],
        },
        {
          width: 'auto',
          text: growth.text,
          color: growth.color,
          bold: true,
          fontSize: 9,
          alignment: 'right',
          margin: [0, 4, 0, 0],
        },
      ],
      columnGap: 6,
    };
  });
  return {
    fillColor: CARD_FILL,
    margin: [4, 4, 4, 5],
    stack: [
      { text: item.label, fontSize: 8.5, color: MUTED_COLOR },
      { text: value.text, fontSize: 16, bold: true, color: value.color ?? INK, margin: [0, 1, 0, 0] },
      ...comparisons,
    ],
  };
}

function kpiSection(section: KpiSection, width: number, fmt: Formatter): Content {
  if (section.items.length === 0) {
    return { unbreakable: true, stack: [sectionTitle(section.title), emptyNote('No figures.')] };
  }
  const perRow = cardsPerRow(section.items.length, width);
  const body: TableCell[][] = [];
  for (let i = 0; i < section.items.length; i += perRow) {
    const row: TableCell[] = section.items
      .slice(i, i + perRow)
      .map((item) => kpiCard(item, section.against, fmt));
    while (row.length < perRow) row.push({ text: '' });
    body.push(row);
  }
  const gap = 6;
  const gaps: CustomTableLayout = {
    // White rules between the filled cells are what separates them into cards.
    hLineWidth: (i, node) => (i === 0 || i === node.table.body.length ? 0 : gap),
    vLineWidth: (i) => (i === 0 || i === perRow ? 0 : gap),
    hLineColor: () => 'white',
    vLineColor: () => 'white',
    paddingLeft: () => 0,
    paddingRight: () => 0,
    paddingTop: () => 0,
    paddingBottom: () => 0,
  };
  return {
    stack: [
      sectionTitle(section.title),
      {
        table: { widths: Array.from({ length: perRow }, () => '*'), body, dontBreakRows: true },
        layout: gaps,
      },
    ],
  };
}

function emptyNote(text: string) {
  return { text, italics: true, fontSize: 8.5, color: MUTED_COLOR };
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

function tableSection(section: TableSection, width: number, fmt: Formatter): Content {
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

async function chartSection(section: ChartSection, width: number, fmt: Formatter): Promise<Content> {
  const height = section.chart === 'line' ? 190 : 220;
  const yTitle = section.yType === 'money' ? `${section.yTitle} (${fmt.symbol})` : section.yTitle;
  const svg = await chartSvg({ ...section, yTitle }, { font: FONT, width, height });
  return {
    unbreakable: true,
    stack: [
      sectionTitle(section.title),
      svg === null ? emptyNote('No data to chart for this period.') : { svg, width },
    ],
  };
}

async function sectionContent(section: Section, width: number, fmt: Formatter): Promise<Content> {
  switch (section.kind) {
    case 'kpis':
      return kpiSection(section, width, fmt);
    case 'table':
      return tableSection(section, width, fmt);
    case 'chart':
      return chartSection(section, width, fmt);
  }
}

// ---------------------------------------------------------------------------------------------

function documentDate(iso: string): Date {
  const d = new Date(iso);
  // Never the clock: an unreadable producedAt still gives the same bytes every time.
  return Number.isNaN(d.getTime()) ? new Date(0) : d;
}

function information(doc: ReportDocument): TDocumentInformation {
  const produced = documentDate(doc.producedAt);
  const info: TDocumentInformation & Record<string, string | Date> = {
    title: `${doc.title} – ${doc.periodLabel}`,
    subject: doc.scope,
    author: 'SalesFlow Analytics',
    creator: 'SalesFlow Analytics',
    producer: 'SalesFlow Analytics (pdfmake)',
    creationDate: produced,
    modDate: produced,
    // pdfkit hashes the info dictionary into the file /ID: this makes the ID follow the content.
    ReportDigest: createHash('sha256').update(JSON.stringify(doc)).digest('hex'),
  };
  return info;
}

async function buildDefinition(doc: ReportDocument): Promise<TDocumentDefinitions> {
  const fmt = formatterFor({ locale: doc.locale, currency: doc.currency });
  const orientation = chooseOrientation(doc, fmt);
  const width = contentWidth(orientation);
  const sections = await Promise.all(doc.sections.map((s) => sectionContent(s, width, fmt)));
  const content: Content[] = [
    { stack: titleBlock(doc), margin: [0, 0, 0, 4] },
    ...sections.map((s): Content => ({ stack: [s], margin: [0, 16, 0, 0] })),
  ];
  return {
    pageSize: 'A4',
    pageOrientation: orientation,
    pageMargins: [MARGIN_X, MARGIN_TOP, MARGIN_X, MARGIN_BOTTOM],
    info: information(doc),
    header: pageHeader(doc, width),
    footer: pageFooter(doc, width),
    defaultStyle: { font: FONT, fontSize: 9, color: INK, lineHeight: 1.1 },
    content,
  };
}

export async function renderPdf(doc: ReportDocument): Promise<Buffer> {
  const definition = await buildDefinition(doc);
  // pdfmake is a configured singleton; setting the same values on every call keeps renders independent.
  pdfMake.setFonts(fonts());
  pdfMake.setUrlAccessPolicy(() => false);
  pdfMake.setLocalAccessPolicy((path) => ALLOWED_FILES.has(path));
  return pdfMake.createPdf(definition).getBuffer();
}
