/**
 * The one font family of the PDFs, and how wide a text set in it is.
 *
 * DejaVu Sans has the ▲▼ arrows that growth figures need (pdfmake's bundled Roboto has not), and its
 * condensed cut fits wide tables on a portrait page. Widths come from the font's own advance widths,
 * so charts and the page-orientation choice measure exactly what pdfmake will draw.
 */
import { createRequire } from 'node:module';
import { type Font, openSync } from 'fontkit';

export const FONT = 'DejaVuSansCondensed';

const require = createRequire(import.meta.url);

export const FONT_FILES = {
  normal: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSansCondensed.ttf'),
  bold: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSansCondensed-Bold.ttf'),
  italics: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSansCondensed-Oblique.ttf'),
  bolditalics: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSansCondensed-BoldOblique.ttf'),
} as const;

interface Metrics {
  font: Font;
  /** advance widths in font units, by code point: a cache, bounded by the characters in use */
  advances: Map<number, number>;
}

const loaded: Partial<Record<'normal' | 'bold', Metrics>> = {};

function metrics(weight: 'normal' | 'bold'): Metrics {
  let m = loaded[weight];
  if (!m) {
    const font = openSync(FONT_FILES[weight]);
    if (!('glyphForCodePoint' in font)) throw new Error(`${FONT_FILES[weight]} is a font collection`);
    m = { font, advances: new Map() };
    loaded[weight] = m;
  }
  return m;
}

/** Width in points of `text` at `size` points; kerning is left out (it moves a few hundredths). */
export function textWidth(text: string, size: number, bold = false): number {
  const m = metrics(bold ? 'bold' : 'normal');
  let units = 0;
  for (const char of text) {
    const cp = char.codePointAt(0)!;
    let advance = m.advances.get(cp);
    if (advance === undefined) {
      advance = m.font.glyphForCodePoint(cp).advanceWidth;
      m.advances.set(cp, advance);
    }
    units += advance;
  }
  return (units * size) / m.font.unitsPerEm;
}
