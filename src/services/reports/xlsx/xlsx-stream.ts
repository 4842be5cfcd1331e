/**
 * A minimal streamed XLSX (SpreadsheetML) writer for large, plain tables: inline or shared strings, a
 * fixed set of cell styles, frozen header rows, column widths and an autofilter. Rows come as XML
 * built from `textCell` / `numberCell` (or their tails), a chunk at a time, and flow through the ZIP
 * writer with backpressure.
 *
 * Why not exceljs's stream.xlsx.WorkbookWriter: on 16-column sales lines it wrote 55k rows/s without
 * styles and 21–39k with them, and held 830 MB of RSS for 1M lines, since nothing makes it wait for
 * its compressor. The report workbooks, small and richly formatted, still use exceljs
 * (xlsx-renderer.ts).
 *
 * Sheets may be written in any order (the Summary of an export is written last, once the row count is
 * known) and listed in another: `order` sets a sheet's tab position.
 */
import { columnLetter, xlsxText } from './cell-format.ts';
import type { ZipWriter } from './zip.ts';

const NS_MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const NS_REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const NS_PKG_REL = 'http://schemas.openxmlformats.org/package/2006/relationships';
const XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

/** Cell styles of the fixed stylesheet (indices into cellXfs). */
export const Style = {
  general: 0,
  text: 1,
  int: 2,
  money: 3,
  number: 4,
  header: 5,
  title: 6,
  label: 7,
  date: 8,
  dateTime: 9,
} as const;
export type StyleId = (typeof Style)[keyof typeof Style];

const STYLES_XML =
  XML_DECL +
  `<styleSheet xmlns="${NS_MAIN}">` +
  '<numFmts count="3"><numFmt numFmtId="164" formatCode="#,##0.###"/>' +
  '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/><numFmt numFmtId="166" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>' +
  '<fonts count="3">' +
  '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>' +
  '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>' +
  '<font><b/><sz val="14"/><name val="Calibri"/><family val="2"/></font>' +
  '</fonts>' +
  '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>' +
  '<fill><patternFill patternType="solid"><fgColor rgb="FFE7E6E6"/><bgColor indexed="64"/></patternFill></fill></fills>' +
  '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>' +
  '<border><left/><right/><top/><bottom style="thin"><color auto="1"/></bottom><diagonal/></border></borders>' +
  '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
  '<cellXfs count="10">' +
  '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' +
  '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' +
  '<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' +
  '<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' +
  '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' +
  '<xf numFmtId="49" fontId="1" fillId="2" borderId="1" xfId="0" applyNumberFormat="1" applyFont="1" applyFill="1" applyBorder="1"/>' +
  '<xf numFmtId="49" fontId="2" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>' +
  '<xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>' +
  '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' +
  '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' +
  '</cellXfs>' +
  '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>' +
  '<dxfs count="0"/><tableStyles count="0"/>' +
  '</styleSheet>';

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are not allowed in XML
const XML_NEEDS_ESCAPE = /[&<>"\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are not allowed in XML
const XML_ESCAPES = /[&<>"\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;
const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/** Text escaped for XML content or attributes; characters XML cannot carry are dropped. */
export function escapeXml(text: string): string {
  if (!XML_NEEDS_ESCAPE.test(text)) return text;
  return text.replace(XML_ESCAPES, (c) => XML_ENTITIES[c] ?? '');
}

/**
 * What follows `<c r="REF` in an inline-string cell. Rows of large sheets are assembled from these
 * pieces (`'<c r="' + ref + tail`): template literals per cell measured three times slower.
 */
export function textCellTail(text: string, style: StyleId): string {
  const t = escapeXml(xlsxText(text));
  const first = t.charCodeAt(0);
  const last = t.charCodeAt(t.length - 1);
  // without it, XML readers drop leading and trailing spaces and line breaks
  const open = first <= 32 || last <= 32 ? '<t xml:space="preserve">' : '<t>';
  return '" s="' + style + '" t="inlineStr"><is>' + open + t + '</t></is></c>';
}

/** What follows `<c r="REF` in a number cell (a finite number). */
export function numberCellTail(value: number, style: StyleId): string {
  return '" s="' + style + '"><v>' + value + '</v></c>';
}

/** An inline-string cell; empty text gives no cell. */
export function textCell(ref: string, text: string, style: StyleId = Style.text): string {
  return text === '' ? '' : '<c r="' + ref + textCellTail(text, style);
}

/** A number cell; a missing or non-finite number gives no cell. */
export function numberCell(ref: string, value: number | null | undefined, style: StyleId): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '';
  return '<c r="' + ref + numberCellTail(value, style);
}

/**
 * The shared strings part, for the labels repeated on every row of a large sheet (store, product,
 * day…): a cell then holds an index, ~40 % fewer bytes to encode and compress than the inline text,
 * and the text is escaped once. Bounded: past `limit` distinct strings, new ones go inline.
 */
export class SharedStrings {
  private readonly tails = new Map<string, string>();
  private readonly items: string[] = [];

  constructor(private readonly limit = 200_000) {}

  /** What follows `<c r="REF` for a text cell (text format), shared when there is room. */
  textTail(text: string): string {
    let tail = this.tails.get(text);
    if (tail !== undefined) return tail;
    if (this.items.length >= this.limit) return textCellTail(text, Style.text);
    const t = escapeXml(xlsxText(text));
    const first = t.charCodeAt(0);
    const last = t.charCodeAt(t.length - 1);
    this.items.push(
      first <= 32 || last <= 32
        ? '<si><t xml:space="preserve">' + t + '</t></si>'
        : '<si><t>' + t + '</t></si>',
    );
    tail = '" s="' + Style.text + '" t="s"><v>' + (this.items.length - 1) + '</v></c>';
    this.tails.set(text, tail);
    return tail;
  }

  get size(): number {
    return this.items.length;
  }

  xml(): string {
    return `${XML_DECL}<sst xmlns="${NS_MAIN}" uniqueCount="${this.items.length}">${this.items.join('')}</sst>`;
  }
}

export interface SheetOptions {
  name: string;
  /** tab position; sheets are listed by it, then by creation; 0 is the tab shown on opening */
  order: number;
  /** widths in Excel character units, one per column */
  widths: number[];
  /** rows kept in view when scrolling (the header) */
  frozenRows?: number;
  /** printing: landscape, one page wide, these top rows repeated on every page */
  printTitleRows?: number;
}

/** A sheet being written: rows in order, then `close` with the autofilter range, if any. */
export interface SheetWriter {
  write(rowsXml: string | Buffer): Promise<void>;
  close(autoFilter?: string): Promise<void>;
}

interface SheetEntry {
  name: string;
  order: number;
  seq: number;
  part: string;
  autoFilter: string | undefined;
  printTitleRows: number | undefined;
}

export interface WorkbookProps {
  title: string;
  creator: string;
  /** ISO instant, for the document properties */
  createdAt: string;
}

/** Excel's limit of rows per sheet, header included. */
export const MAX_SHEET_ROWS = 1_048_576;

export class XlsxStreamWriter {
  private readonly sheets: SheetEntry[] = [];

  constructor(
    private readonly zip: ZipWriter,
    private readonly props: WorkbookProps,
    private readonly sharedStrings?: SharedStrings,
  ) {}

  /** Opens a sheet whose rows come in chunks. */
  openSheet(options: SheetOptions): SheetWriter {
    const sheet = this.register(options);
    const entry = this.zip.openEntry(sheet.part);
    let started = false;
    const start = async () => {
      if (!started) {
        started = true;
        await entry.write(sheetStart(options));
      }
    };
    return {
      write: async (rowsXml) => {
        await start();
        await entry.write(rowsXml);
      },
      close: async (autoFilter) => {
        await start();
        sheet.autoFilter = autoFilter;
        await entry.write(sheetEnd(autoFilter, options.printTitleRows));
        await entry.close();
      },
    };
  }

  /** A small sheet written at once. */
  async addSheet(options: SheetOptions, rowsXml: string, autoFilter?: string): Promise<void> {
    const sheet = this.register(options);
    sheet.autoFilter = autoFilter;
    await this.zip.addFile(
      sheet.part,
      sheetStart(options) + rowsXml + sheetEnd(autoFilter, options.printTitleRows),
    );
  }

  /** Writes the workbook parts and the ZIP directory, and ends the output. */
  async finish(): Promise<void> {
    const listed = [...this.sheets].sort((a, b) => a.order - b.order || a.seq - b.seq);
    const rels = listed.map(
      (s, i) => `<Relationship Id="rId${i + 1}" Type="${NS_REL}/worksheet" Target="${s.part.slice(3)}"/>`,
    );
    rels.push(`<Relationship Id="rId${listed.length + 1}" Type="${NS_REL}/styles" Target="styles.xml"/>`);
    const sst = this.sharedStrings && this.sharedStrings.size > 0 ? this.sharedStrings : undefined;
    if (sst) {
      rels.push(
        `<Relationship Id="rId${listed.length + 2}" Type="${NS_REL}/sharedStrings" Target="sharedStrings.xml"/>`,
      );
      await this.zip.addFile('xl/sharedStrings.xml', sst.xml());
    }
    const defined = listed
      .map(
        (s, i) =>
          (s.autoFilter
            ? `<definedName name="_xlnm._FilterDatabase" localSheetId="${i}" hidden="1">${escapeXml(
                `${quoteSheetName(s.name)}!${absoluteRange(s.autoFilter)}`,
              )}</definedName>`
            : '') +
          (s.printTitleRows
            ? `<definedName name="_xlnm.Print_Titles" localSheetId="${i}">${escapeXml(
                `${quoteSheetName(s.name)}!$1:$${s.printTitleRows}`,
              )}</definedName>`
            : ''),
      )
      .join('');
    await this.zip.addFile(
      'xl/workbook.xml',
      XML_DECL +
        `<workbook xmlns="${NS_MAIN}" xmlns:r="${NS_REL}">` +
        '<bookViews><workbookView activeTab="0"/></bookViews><sheets>' +
        listed
          .map((s, i) => `<sheet name="${escapeXml(s.name)}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`)
          .join('') +
        '</sheets>' +
        (defined ? `<definedNames>${defined}</definedNames>` : '') +
        '</workbook>',
    );
    await this.zip.addFile(
      'xl/_rels/workbook.xml.rels',
      `${XML_DECL}<Relationships xmlns="${NS_PKG_REL}">${rels.join('')}</Relationships>`,
    );
    await this.zip.addFile('xl/styles.xml', STYLES_XML);
    await this.zip.addFile('docProps/core.xml', this.coreXml());
    await this.zip.addFile(
      'docProps/app.xml',
      XML_DECL +
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">' +
        `<Application>${escapeXml(this.props.creator)}</Application></Properties>`,
    );
    await this.zip.addFile(
      '_rels/.rels',
      XML_DECL +
        `<Relationships xmlns="${NS_PKG_REL}">` +
        `<Relationship Id="rId1" Type="${NS_REL}/officeDocument" Target="xl/workbook.xml"/>` +
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>' +
        `<Relationship Id="rId3" Type="${NS_REL}/extended-properties" Target="docProps/app.xml"/>` +
        '</Relationships>',
    );
    const ct = 'application/vnd.openxmlformats-officedocument';
    await this.zip.addFile(
      '[Content_Types].xml',
      XML_DECL +
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
        `<Default Extension="rels" ContentType="${ct.replace('officedocument', 'package')}.relationships+xml"/>` +
        '<Default Extension="xml" ContentType="application/xml"/>' +
        `<Override PartName="/xl/workbook.xml" ContentType="${ct}.spreadsheetml.sheet.main+xml"/>` +
        listed
          .map((s) => `<Override PartName="/${s.part}" ContentType="${ct}.spreadsheetml.worksheet+xml"/>`)
          .join('') +
        `<Override PartName="/xl/styles.xml" ContentType="${ct}.spreadsheetml.styles+xml"/>` +
        (sst
          ? `<Override PartName="/xl/sharedStrings.xml" ContentType="${ct}.spreadsheetml.sharedStrings+xml"/>`
          : '') +
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>' +
        `<Override PartName="/docProps/app.xml" ContentType="${ct}.extended-properties+xml"/>` +
        '</Types>',
    );
    await this.zip.finish();
  }

  private register(options: SheetOptions): SheetEntry {
    const seq = this.sheets.length + 1;
    const sheet = {
      name: options.name,
      order: options.order,
      seq,
      part: `xl/worksheets/sheet${seq}.xml`,
      autoFilter: undefined,
      printTitleRows: options.printTitleRows,
    };
    this.sheets.push(sheet);
    return sheet;
  }

  private coreXml(): string {
    const at = new Date(this.props.createdAt);
    const when = Number.isFinite(at.getTime()) ? at.toISOString().replace(/\.\d{3}Z$/, 'Z') : '';
    const stamp = (tag: string) =>
      when ? `<dcterms:${tag} xsi:type="dcterms:W3CDTF">${when}</dcterms:${tag}>` : '';
    return (
      XML_DECL +
      '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" ' +
      'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" ' +
      'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
      `<dc:title>${escapeXml(this.props.title)}</dc:title>` +
      `<dc:creator>${escapeXml(this.props.creator)}</dc:creator>` +
      `<cp:lastModifiedBy>${escapeXml(this.props.creator)}</cp:lastModifiedBy>` +
      stamp('created') +
      stamp('modified') +
      '</cp:coreProperties>'
    );
  }
}

function sheetStart(options: SheetOptions): string {
  const frozen = options.frozenRows ?? 0;
  const tab = options.order === 0 ? ' tabSelected="1"' : '';
  const top = `A${frozen + 1}`;
  const view =
    frozen > 0
      ? `<sheetView workbookViewId="0"${tab}><pane ySplit="${frozen}" topLeftCell="${top}" activePane="bottomLeft" state="frozen"/>` +
        `<selection pane="bottomLeft" activeCell="${top}" sqref="${top}"/></sheetView>`
      : `<sheetView workbookViewId="0"${tab}/>`;
  const cols = options.widths
    .map((w, i) => `<col min="${i + 1}" max="${i + 1}" width="${w}" customWidth="1"/>`)
    .join('');
  return (
    XML_DECL +
    `<worksheet xmlns="${NS_MAIN}" xmlns:r="${NS_REL}">` +
    (options.printTitleRows ? '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>' : '') +
    `<sheetViews>${view}</sheetViews>` +
    '<sheetFormatPr defaultRowHeight="15"/>' +
    (cols ? `<cols>${cols}</cols>` : '') +
    '<sheetData>'
  );
}

function sheetEnd(autoFilter: string | undefined, printTitleRows: number | undefined): string {
  return (
    '</sheetData>' +
    (autoFilter ? `<autoFilter ref="${autoFilter}"/>` : '') +
    '<pageMargins left="0.4" right="0.4" top="0.5" bottom="0.5" header="0.3" footer="0.3"/>' +
    (printTitleRows
      ? '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
      : '') +
    '</worksheet>'
  );
}

function quoteSheetName(name: string): string {
  return `'${name.replace(/'/g, "''")}'`;
}

function absoluteRange(range: string): string {
  return range.replace(/([A-Z]+)(\d+)/g, '$$$1$$$2');
}

/** `A1:P20` for a block of columns and rows (1-based). */
export function rangeRef(firstRow: number, lastRow: number, columns: number): string {
  return `A${firstRow}:${columnLetter(columns)}${lastRow}`;
}
