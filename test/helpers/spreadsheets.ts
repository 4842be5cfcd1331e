/**
 * Files for import tests: real workbooks written by exceljs, CSV text, and hand-built ZIP archives
 * for the hostile cases exceljs would never write (bombs, lying headers).
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

export interface ZipEntry {
  name: string;
  data: Buffer;
  /** what the headers claim the entry expands to (default: the truth) */
  declaredSize?: number;
  /** 0 stored, 8 deflated (default) */
  method?: 0 | 8;
}

/** A ZIP archive written by hand, so tests can make the ones no library would. */
export function zip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const method = e.method ?? 8;
    const body = method === 8 ? deflateRawSync(e.data) : e.data;
    const name = Buffer.from(e.name, 'utf8');
    const size = e.declaredSize ?? e.data.length;
    const crc = crc32(e.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
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
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** The parts every workbook has, so a bomb is refused for being a bomb, not for not being a workbook. */
export function workbookSkeleton(): ZipEntry[] {
  return [
    {
      name: '[Content_Types].xml',
      data: Buffer.from(
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
      ),
    },
    {
      name: 'xl/workbook.xml',
      data: Buffer.from(
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ' +
          'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>' +
          '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
      ),
    },
    {
      name: 'xl/_rels/workbook.xml.rels',
      data: Buffer.from(
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
          '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" ' +
          'Target="worksheets/sheet1.xml"/></Relationships>',
      ),
    },
  ];
}
