/** The PDF's page geometry and palette, and the pieces every section uses (its title, an empty note). */
import type { Content } from 'pdfmake/interfaces.js';
import { MUTED_COLOR } from './format.ts';

export const A4 = { width: 595.28, height: 841.89 };
export const MARGIN_X = 40;
export const MARGIN_TOP = 58;
export const MARGIN_BOTTOM = 48;

export const INK = '#1f2937';
export const HEADER_FILL = '#1f3a5f';
export const ZEBRA_FILL = '#f4f6f9';
export const TOTALS_FILL = '#e3e9f1';
export const RULE = '#d1d5db';
export const CARD_FILL = '#f2f5f9';
export const WARN_FILL = '#fff4e5';
export const WARN_BORDER = '#d9822b';
export const WARN_INK = '#8a3b00';

export const CELL_PADDING_X = 4;

export function sectionTitle(title: string): Content {
  return { text: title, fontSize: 12, bold: true, color: INK, margin: [0, 0, 0, 5] };
}

export function emptyNote(text: string) {
  return { text, italics: true, fontSize: 8.5, color: MUTED_COLOR };
}
