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
  TDocumentDefinitions,
  TDocumentInformation,
  TFontDictionary,
} from 'pdfmake/interfaces.js';
import type { ChartSection, ReportDocument, Section } from '../report-types.ts';
import { chartSvg } from './chart-svg.ts';
import { FONT, FONT_FILES, textWidth } from './fonts.ts';
import { type Formatter, formatTimestamp, formatterFor, MUTED_COLOR, NBSP } from './format.ts';
import { kpiSection } from './pdf-kpis.ts';
import {
  A4,
  emptyNote,
  INK,
  MARGIN_BOTTOM,
  MARGIN_TOP,
  MARGIN_X,
  RULE,
  sectionTitle,
  WARN_BORDER,
  WARN_FILL,
  WARN_INK,
} from './pdf-style.ts';
import { measureTable, tableSection } from './pdf-table.ts';

const ALLOWED_FILES = new Set<string>(Object.values(FONT_FILES));

type Orientation = 'portrait' | 'landscape';

function contentWidth(orientation: Orientation): number {
  return (orientation === 'portrait' ? A4.width : A4.height) - 2 * MARGIN_X;
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
