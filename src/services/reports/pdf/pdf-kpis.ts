/** The headline KPI cards of the PDF: a figure, its comparisons, growth coloured up or down. */
import type { Content, CustomTableLayout, TableCell } from 'pdfmake/interfaces.js';
import type { KpiItem, KpiSection } from '../report-types.ts';
import { type Formatter, MUTED_COLOR } from './format.ts';
import { CARD_FILL, emptyNote, INK, sectionTitle } from './pdf-style.ts';

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

export function kpiSection(section: KpiSection, width: number, fmt: Formatter): Content {
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
