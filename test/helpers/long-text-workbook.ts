/**
 * A hostile products workbook: one cell of row 2 holds a text of `chars` characters, as an inline
 * string or as the first shared string. The text is streamed through the deflater, never held
 * whole, and a pseudo-random letter every 500 characters keeps it near 150:1, inside the ZIP ratio
 * limit as a crafted file would be (100 million characters make a file of about 0.7 MB).
 */
import { once } from 'node:events';
import { createDeflateRaw } from 'node:zlib';
import { SPREADSHEETML_NS, workbookParts, type ZipPart, zip } from './spreadsheets.ts';

const RANDOM_EVERY = 500;
const PIECE = 1024 * 1024;

/** `chars` characters of text, in 1 MiB pieces, the same every time. */
function* longText(chars: number): Generator<Buffer> {
  let seed = 1;
  for (let done = 0; done < chars; done += PIECE) {
    const piece = Buffer.alloc(Math.min(PIECE, chars - done), 'x');
    for (let i = (RANDOM_EVERY - (done % RANDOM_EVERY)) % RANDOM_EVERY; i < piece.length; i += RANDOM_EVERY) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      piece[i] = 97 + (seed % 26);
    }
    yield piece;
  }
}

/** An entry of `head`, the long text, then `tail`, deflated as it is made. */
async function deflatedPart(name: string, head: string, chars: number, tail: string): Promise<ZipPart> {
  const deflater = createDeflateRaw();
  const out: Buffer[] = [];
  deflater.on('data', (chunk: Buffer) => out.push(chunk));
  const write = async (chunk: Buffer) => {
    if (!deflater.write(chunk)) await once(deflater, 'drain');
  };
  await write(Buffer.from(head));
  for (const piece of longText(chars)) await write(piece);
  await write(Buffer.from(tail));
  deflater.end();
  await once(deflater, 'end');
  const size = Buffer.byteLength(head) + chars + Buffer.byteLength(tail);
  return { name, deflated: Buffer.concat(out), declaredSize: size };
}

const text = (ref: string, value: string) => `<c r="${ref}" t="inlineStr"><is><t>${value}</t></is></c>`;
const HEADER = `<row r="1">${text('A1', 'SKU')}${text('B1', 'Product Name')}${text('C1', 'Category')}${text('D1', 'Price')}</row>`;
/** a data row; `name` is the whole B cell */
const row = (r: number, sku: string, name: string, price: number) =>
  `<row r="${r}">${text(`A${r}`, sku)}${name}${text(`C${r}`, 'Misc')}<c r="D${r}"><v>${price}</v></c></row>`;

/**
 * Columns SKU, Product Name, Category, Price; row 2 (LONG-1) has the long name, row 3 (FINE-1) a
 * short one.
 */
export async function longTextWorkbook(options: { chars: number; shared?: boolean }): Promise<Buffer> {
  const open = `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="${SPREADSHEETML_NS}"><sheetData>${HEADER}`;
  const close = `${row(3, 'FINE-1', text('B3', 'Fine'), 2.5)}</sheetData></worksheet>`;
  const [workbook, rels] = workbookParts([{ name: 'Products', xml: '' }]);
  const contentTypes: ZipPart = {
    name: '[Content_Types].xml',
    data: '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
  };
  if (!options.shared) {
    const [head, tail] = row(2, 'LONG-1', text('B2', '\u0000'), 1.5).split('\u0000') as [string, string];
    const sheet = await deflatedPart('xl/worksheets/sheet1.xml', open + head, options.chars, tail + close);
    return zip([contentTypes, workbook!, rels!, sheet]);
  }
  const strings = await deflatedPart(
    'xl/sharedStrings.xml',
    `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="${SPREADSHEETML_NS}" count="1" uniqueCount="1"><si><t>`,
    options.chars,
    '</t></si></sst>',
  );
  const sheet: ZipPart = {
    name: 'xl/worksheets/sheet1.xml',
    data: open + row(2, 'LONG-1', '<c r="B2" t="s"><v>0</v></c>', 1.5) + close,
  };
  // the relationships need not name the shared strings: exceljs finds them by their part name
  return zip([contentTypes, workbook!, rels!, strings, sheet]);
}
