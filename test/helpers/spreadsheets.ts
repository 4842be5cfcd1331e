/**
 * Files for import tests: real workbooks written by exceljs, and hand-built ZIP archives and
 * workbook parts for the cases exceljs would never write (bombs, lying headers, hidden entries,
 * unusual part orders and targets).
 */
import { crc32, deflateRawSync } from 'node:zlib';
import ExcelJS from 'exceljs';

export type Cell = string | number | boolean | Date | null;

export interface SheetSpec {
  name?: string;
  rows: Cell[][];
  state?: 'visible' | 'hidden' | 'veryHidden';
  merges?: string[];
}

/** A workbook with one or more sheets, as the bytes a user would upload. */
export async function workbook(...sheets: SheetSpec[]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  sheets.forEach((spec, i) => {
    const ws = wb.addWorksheet(spec.name ?? `Sheet${i + 1}`, spec.state ? { state: spec.state } : {});
    for (const row of spec.rows) ws.addRow(row);
    for (const range of spec.merges ?? []) ws.mergeCells(range);
  });
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** The rows of a workbook's first (or named) sheet, read back with exceljs. */
export async function readWorkbook(bytes: Buffer | ArrayBuffer, sheet?: string): Promise<unknown[][]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes as ArrayBuffer);
  const ws = sheet ? wb.getWorksheet(sheet) : wb.worksheets[0];
  const rows: unknown[][] = [];
  ws?.eachRow((row) => {
    rows.push((row.values as unknown[]).slice(1));
  });
  return rows;
}

// --- a ZIP written by hand ---------------------------------------------------------------------

export interface ZipPart {
  name: string;
  data?: Buffer | string;
  /** method 0 instead of deflate */
  store?: boolean;
  /** already deflated bytes (data is then ignored) */
  deflated?: Buffer;
  /** the uncompressed size written in both headers, true or not */
  declaredSize?: number;
}

/**
 * A plain ZIP (no descriptors, no ZIP64), written by hand so tests can make the ones no library
 * would: `hidden` bytes go between the last entry and the directory; `localMethod` is written in
 * every local header instead of the entry's true method (the central directory keeps the truth).
 */
export function zip(parts: ZipPart[], options: { hidden?: Buffer; localMethod?: number } = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const part of parts) {
    const data = typeof part.data === 'string' ? Buffer.from(part.data) : (part.data ?? Buffer.alloc(0));
    const body = part.deflated ?? (part.store ? data : deflateRawSync(data));
    const method = part.store ? 0 : 8;
    const size = part.declaredSize ?? data.length;
    const crc = part.deflated ? 0 : crc32(data);
    const name = Buffer.from(part.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(options.localMethod ?? method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  if (options.hidden) {
    locals.push(options.hidden);
    offset += options.hidden.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

// --- the parts of a workbook, written by hand ----------------------------------------------------

/** The SpreadsheetML namespace of workbook, sheet, shared-strings and styles parts. */
export const SPREADSHEETML_NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

/** A worksheet part: numbers as values, text as inline strings. */
export function sheetXml(rows: (string | number)[][]): string {
  const body = rows
    .map((cells, r) => {
      const cs = cells.map((v, c) => {
        const ref = `${String.fromCharCode(65 + c)}${r + 1}`;
        return typeof v === 'number'
          ? `<c r="${ref}"><v>${v}</v></c>`
          : `<c r="${ref}" t="inlineStr"><is><t>${v}</t></is></c>`;
      });
      return `<row r="${r + 1}">${cs.join('')}</row>`;
    })
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="${SPREADSHEETML_NS}"><sheetData>${body}</sheetData></worksheet>`;
}

/**
 * The parts of a minimal workbook: xl/workbook.xml, its relationships, then (with
 * `sharedStringsFirst`, after a shared-strings part) one part per sheet; `target` lets a sheet use
 * an absolute relationship target.
 */
export function workbookParts(
  sheets: { name: string; xml: string; state?: string; target?: string }[],
  options: { sharedStringsFirst?: boolean } = {},
): ZipPart[] {
  const list = sheets
    .map(
      (s, i) =>
        `<sheet name="${s.name}" sheetId="${i + 1}"${s.state ? ` state="${s.state}"` : ''} r:id="rId${i + 1}"/>`,
    )
    .join('');
  const rels = sheets
    .map(
      (s, i) =>
        `<Relationship Id="rId${i + 1}" Type="${REL}/worksheet" Target="${s.target ?? `worksheets/sheet${i + 1}.xml`}"/>`,
    )
    .join('');
  const head: ZipPart[] = [
    {
      name: 'xl/workbook.xml',
      data: `<workbook xmlns="${SPREADSHEETML_NS}" xmlns:r="${REL}"><sheets>${list}</sheets></workbook>`,
    },
    {
      name: 'xl/_rels/workbook.xml.rels',
      data: `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${rels}</Relationships>`,
    },
  ];
  const strings: ZipPart = {
    name: 'xl/sharedStrings.xml',
    data: `<sst xmlns="${SPREADSHEETML_NS}" count="1" uniqueCount="1"><si><t>unused</t></si></sst>`,
  };
  const parts = sheets.map((s, i) => ({ name: `xl/worksheets/sheet${i + 1}.xml`, data: s.xml }));
  return options.sharedStringsFirst ? [...head, strings, ...parts] : [...head, ...parts];
}

/**
 * The parts every workbook has, for one sheet whose part (xl/worksheets/sheet1.xml) the caller
 * adds, so a bomb is refused for being a bomb, not for not being a workbook.
 */
export function workbookSkeleton(): ZipPart[] {
  const [workbook, rels] = workbookParts([{ name: 'Sheet1', xml: '' }]);
  return [
    {
      name: '[Content_Types].xml',
      data: '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
    },
    workbook!,
    rels!,
  ];
}
