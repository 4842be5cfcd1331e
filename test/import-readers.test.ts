/**
 * The file-reading layer of spreadsheet imports: real workbooks written with exceljs, CSV written
 * by hand, and hostile ZIPs built byte by byte (zip bombs, lying headers, hidden entries).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import ExcelJS from 'exceljs';
import { inspectXlsx, type XlsxLimits } from '../src/services/imports/file-inspect.ts';
import { sniffFormat } from '../src/services/imports/file-sniff.ts';
import {
  FILE_REJECT_REASONS,
  FileRejectedError,
  UnsupportedFileError,
} from '../src/services/imports/import-errors.ts';
import { type OpenedSheet, openSheet, type SheetRow } from '../src/services/imports/sheet-reader.ts';
import { SPREADSHEETML_NS, sheetXml, workbookParts, type ZipPart, zip } from './helpers/spreadsheets.ts';

const LIMITS: XlsxLimits = { maxEntries: 1000, maxUncompressedBytes: 100 * 1024 * 1024, maxRatio: 100 };
const MIB = 1024 * 1024;
const execFileAsync = promisify(execFile);

let dir: string;
let fileNo = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'import-readers-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(name: string, content: Buffer | string): Promise<string> {
  const path = join(dir, `${++fileNo}-${name}`);
  await writeFile(path, content);
  return path;
}

async function putWorkbook(name: string, fill: (wb: ExcelJS.Workbook) => void): Promise<string> {
  const wb = new ExcelJS.Workbook();
  fill(wb);
  const path = join(dir, `${++fileNo}-${name}`);
  await wb.xlsx.writeFile(path);
  return path;
}

async function open(path: string, options: { fileName?: string; sheet?: string; limits?: XlsxLimits } = {}) {
  return openSheet(path, {
    fileName: options.fileName ?? path,
    limits: options.limits ?? LIMITS,
    ...(options.sheet === undefined ? {} : { sheet: options.sheet }),
  });
}

async function rowsOf(opened: OpenedSheet): Promise<SheetRow[]> {
  const rows: SheetRow[] = [];
  for await (const row of opened.rows) rows.push(row);
  return rows;
}

/** Asserts the promise rejects with that class, status and reason; returns the error. */
async function refused<E extends FileRejectedError | UnsupportedFileError>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => E,
  reason?: string,
): Promise<E> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    if (err instanceof FileRejectedError) {
      assert.equal(err.status, 400);
      assert.equal(err.code, 'import-file-rejected');
      assert.equal(err.extensions.reason, reason);
      if (reason) assert.ok((FILE_REJECT_REASONS as readonly string[]).includes(reason));
    } else {
      assert.equal(err.status, 415);
      assert.equal(err.code, 'unsupported-file-type');
    }
    return err;
  }
  assert.fail(`expected ${type.name}${reason ? ` (${reason})` : ''}`);
}

/** Open file descriptors of this process, or -1 where /proc is missing. */
function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

// --- xlsx ------------------------------------------------------------------------------------

describe('xlsx', () => {
  test('cells come back typed: text, numbers, dates, formulas, rich text, links, errors; blank rows skipped', async () => {
    const path = await putWorkbook('values.xlsx', (wb) => {
      const ws = wb.addWorksheet('Products');
      ws.addRow(['sku', 'qty', 'price', 'sold on', 'total', 'note', 'link', 'check', 'active']);
      ws.addRow([
        'A-1',
        3,
        2.5,
        new Date(Date.UTC(2024, 0, 31)),
        { formula: 'B2*C2', result: 7.5 },
        { richText: [{ text: 'very ' }, { text: 'good', font: { bold: true } }] },
        { text: 'site', hyperlink: 'https://example.com' },
        { error: '#N/A' },
        true,
      ]);
      ws.getCell('D2').numFmt = 'yyyy-mm-dd';
      ws.addRow([]); // row 3: nothing
      ws.getRow(4).getCell(2).value = '';
      ws.getRow(4).getCell(3).numFmt = '0.00'; // row 4: a styled empty cell and an empty string
      ws.getRow(5).values = [
        'B-2',
        { formula: 'B2+1' },
        null,
        { formula: 'TODAY()', result: 45444 },
        { formula: 'A5&"!"', result: 'B-2!' },
      ];
      ws.getCell('D5').numFmt = 'dd/mm/yyyy';
    });
    const opened = await open(path);
    assert.equal(opened.format, 'xlsx');
    assert.equal(opened.sheetName, 'Products');
    assert.deepEqual(opened.warnings, []);
    const rows = await rowsOf(opened);
    assert.deepEqual(
      rows.map((r) => r.row),
      [1, 2, 5],
    );
    assert.deepEqual(rows[1]?.cells, [
      'A-1',
      3,
      2.5,
      new Date(Date.UTC(2024, 0, 31)),
      7.5,
      'very good',
      'site',
      { error: '#N/A' },
      true,
    ]);
    assert.deepEqual(rows[2]?.cells, [
      'B-2',
      { error: 'formula without a cached value: recalculate and save the file in Excel' },
      null,
      new Date(Date.UTC(2024, 5, 1)),
      'B-2!',
    ]);
  });

  test('cached formula results as Excel stores them: errors, text, numbers, zeros, shared formulas', async () => {
    const row1 =
      '<c r="A1" t="e"><f>NA()</f><v>#N/A</v></c><c r="B1" t="str"><f>"a"&amp;"b"</f><v>ab</v></c>' +
      '<c r="C1"><f>1+1</f><v>2</v></c><c r="D1"><f>1-1</f><v>0</v></c>' +
      '<c r="E1"><f t="shared" ref="E1:E2" si="0">C1*3</f><v>6</v></c>';
    const row2 = '<c r="A2" t="str"><f>""</f><v></v></c><c r="E2"><f t="shared" si="0"/><v>0</v></c>';
    const xml = `<worksheet xmlns="${SPREADSHEETML_NS}"><sheetData><row r="1">${row1}</row><row r="2">${row2}</row></sheetData></worksheet>`;
    const path = await put('formulas.xlsx', zip(workbookParts([{ name: 'S', xml }])));
    assert.deepEqual(
      (await rowsOf(await open(path))).map((r) => r.cells),
      [
        [{ error: 'formula returning an error: fix it in Excel' }, 'ab', 2, 0, 6],
        [null, null, null, null, 0],
      ],
    );
  });

  test('a hidden first sheet is passed over with a warning; sheet= picks any sheet, hidden or not', async () => {
    const path = await putWorkbook('hidden.xlsx', (wb) => {
      const lists = wb.addWorksheet('Lists', { state: 'hidden' });
      lists.addRow(['category']);
      lists.addRow(['food']);
      const data = wb.addWorksheet('Stock');
      data.addRow(['sku', 'qty']);
      data.addRow(['A', 1]);
    });
    const first = await open(path);
    assert.equal(first.sheetName, 'Stock');
    assert.deepEqual(first.warnings, ['sheet "Lists" is hidden; read "Stock", the first visible one']);
    assert.deepEqual(
      (await rowsOf(first)).map((r) => r.cells),
      [
        ['sku', 'qty'],
        ['A', 1],
      ],
    );

    const named = await open(path, { sheet: '  lists ' });
    assert.equal(named.sheetName, 'Lists');
    assert.deepEqual(named.warnings, []);
    assert.deepEqual(
      (await rowsOf(named)).map((r) => r.cells),
      [['category'], ['food']],
    );

    const err = await refused(open(path, { sheet: 'Sales' }), FileRejectedError, 'sheet-not-found');
    assert.match(err.message, /no sheet "Sales".*"Lists", "Stock"/);
    assert.deepEqual(err.extensions.sheets, ['Lists', 'Stock']);
  });

  test('merged cells are refused, naming the ranges', async () => {
    const path = await putWorkbook('merged.xlsx', (wb) => {
      const ws = wb.addWorksheet('Sales');
      ws.addRow(['store', 'qty']);
      ws.addRow(['Paris', 1]);
      ws.addRow([null, 2]);
      ws.mergeCells('A2:A3');
    });
    const err = await refused(open(path), FileRejectedError, 'merged-cells');
    assert.match(err.message, /"Sales" has merged cells \(A2:A3\).*unmerge/);
    assert.deepEqual(err.extensions.merges, ['A2:A3']);
  });

  test('an empty sheet yields no rows', async () => {
    const path = await putWorkbook('empty.xlsx', (wb) => {
      wb.addWorksheet('Empty');
    });
    const opened = await open(path);
    assert.equal(opened.sheetName, 'Empty');
    assert.deepEqual(await rowsOf(opened), []);
  });

  test('a workbook with no visible sheet, or none at all, is refused', async () => {
    const path = await putWorkbook('all-hidden.xlsx', (wb) => {
      wb.addWorksheet('A', { state: 'hidden' }).addRow(['x']);
      wb.addWorksheet('B', { state: 'veryHidden' }).addRow(['y']);
    });
    const err = await refused(open(path), FileRejectedError, 'sheet-not-found');
    assert.match(err.message, /no visible sheet/);
    const inspection = await inspectXlsx(path, LIMITS);
    assert.deepEqual(
      inspection.sheets.map((s) => [s.name, s.state, s.path]),
      [
        ['A', 'hidden', 'xl/worksheets/sheet1.xml'],
        ['B', 'veryHidden', 'xl/worksheets/sheet2.xml'],
      ],
    );
  });

  test('a later sheet is read, past a large earlier one', async () => {
    const path = await putWorkbook('two-sheets.xlsx', (wb) => {
      const big = wb.addWorksheet('Big');
      for (let i = 0; i < 20_000; i++) big.addRow([i, `row ${i}`, i * 2]);
      const small = wb.addWorksheet('Small');
      small.addRow(['a']);
      small.addRow(['b']);
    });
    const rows = await rowsOf(await open(path, { sheet: 'small' }));
    assert.deepEqual(
      rows.map((r) => [r.row, r.cells]),
      [
        [1, ['a']],
        [2, ['b']],
      ],
    );
  });

  test('sheet names with XML entities, absolute targets (openpyxl) and prefixed tags split across chunks', async () => {
    const prefix = `<x:worksheet xmlns:x="${SPREADSHEETML_NS}"><x:dimension ref="A1:D4"/><x:sheetData/><x:mergeCells count="1">`;
    const tag = '<x:mergeCell ref="C3:D4"/>';
    // a stored entry is read in 64 KiB chunks: cut the tag at each of its characters
    for (let cut = 1; cut < tag.length; cut++) {
      const xml = `${prefix}${' '.repeat(65_536 - cut - prefix.length)}${tag}</x:mergeCells></x:worksheet>`;
      const parts = workbookParts([
        { name: 'R&amp;D &lt;2024&gt;', xml: '', target: '/xl/worksheets/sheet1.xml' },
      ]);
      const path = await put(
        'prefixed.xlsx',
        zip(parts.map((p) => (p.name.endsWith('sheet1.xml') ? { name: p.name, data: xml, store: true } : p))),
      );
      const inspection = await inspectXlsx(path, LIMITS);
      assert.deepEqual(inspection.sheets, [
        {
          name: 'R&D <2024>',
          state: 'visible',
          path: 'xl/worksheets/sheet1.xml',
          merges: ['C3:D4'],
          dimension: 'A1:D4',
        },
      ]);
    }
  });

  test('rows are read from a workbook with absolute targets (exceljs alone cannot map them)', async () => {
    const parts = workbookParts([
      { name: 'Notes', xml: sheetXml([['not this one']]), target: '/xl/worksheets/sheet1.xml' },
      {
        name: 'Sheet1',
        xml: sheetXml([
          ['sku', 'qty'],
          ['A', 4],
        ]),
        target: '/xl/worksheets/sheet2.xml',
      },
    ]);
    const path = await put('openpyxl.xlsx', zip(parts));
    const opened = await open(path, { sheet: 'sheet1' });
    assert.equal(opened.sheetName, 'Sheet1');
    assert.deepEqual(
      (await rowsOf(opened)).map((r) => r.cells),
      [
        ['sku', 'qty'],
        ['A', 4],
      ],
    );
  });

  test('whatever the order of the parts, shared strings and date styles are applied', async () => {
    const sheet = `<worksheet xmlns="${SPREADSHEETML_NS}"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row><row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" s="1"><v>45444</v></c></row></sheetData></worksheet>`;
    const strings = `<sst xmlns="${SPREADSHEETML_NS}" count="3" uniqueCount="3"><si><t>sku</t></si><si><t>sold on</t></si><si><t>A-1</t></si></sst>`;
    const styles = `<styleSheet xmlns="${SPREADSHEETML_NS}"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>`;
    const [workbook, rels] = workbookParts([{ name: 'S', xml: '' }]);
    const bag: Record<string, ZipPart> = {
      workbook: workbook!,
      rels: rels!,
      sheet: { name: 'xl/worksheets/sheet1.xml', data: sheet },
      strings: { name: 'xl/sharedStrings.xml', data: strings },
      styles: { name: 'xl/styles.xml', data: styles },
    };
    const orders = [
      // exceljs drops entries still queued when unzipper reaches the end of a small archive
      ['workbook', 'rels', 'styles', 'sheet', 'strings'],
      // LibreOffice-like: strings before the sheet, styles and workbook after it
      ['rels', 'strings', 'sheet', 'styles', 'workbook'],
    ];
    for (const order of orders) {
      const path = await put('order.xlsx', zip(order.map((k) => bag[k]!)));
      assert.deepEqual(
        (await rowsOf(await open(path))).map((r) => r.cells),
        [
          ['sku', 'sold on'],
          ['A-1', new Date(Date.UTC(2024, 5, 1))],
        ],
        order.join(', '),
      );
    }
  });

  test('a large sheet is streamed: 80,000 rows are read within a 48 MB heap', async () => {
    const path = join(dir, 'large.xlsx');
    const writer = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: true });
    const ws = writer.addWorksheet('Sales');
    ws.addRow(['n', 'store', 'amount']).commit();
    for (let i = 1; i <= 80_000; i++) ws.addRow([i, `store ${i % 50}`, i / 4]).commit();
    ws.commit();
    await writer.commit();
    // a child process, so that the heap limit is this read's alone
    const script = `
      const { openSheet } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, '../src/services/imports/sheet-reader.ts')).href)});
      const opened = await openSheet(${JSON.stringify(path)}, { fileName: 'large.xlsx', limits: ${JSON.stringify(LIMITS)} });
      let rows = 0;
      let last;
      for await (const row of opened.rows) { rows++; last = row; }
      console.log(JSON.stringify({ rows, last }));
    `;
    const { stdout } = await execFileAsync(
      process.execPath,
      ['--max-old-space-size=48', '--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: process.cwd() },
    );
    assert.deepEqual(JSON.parse(stdout), {
      rows: 80_001,
      last: { row: 80_001, cells: [80_000, 'store 0', 20_000] },
    });
  });

  test('a file cut or changed after its inspection fails the rows, without crashing or hanging', async () => {
    const path = await putWorkbook('cut-later.xlsx', (wb) => {
      const ws = wb.addWorksheet('S');
      for (let i = 0; i < 5000; i++) ws.addRow([i, `row ${i}`]);
    });
    const opened = await open(path);
    await truncate(path, 2000);
    await refused(rowsOf(opened), FileRejectedError, 'bad-zip');
  });

  test('leaving the rows early closes the file and leaves no exceljs temporary file', async (t) => {
    if (openFds() === -1) {
      t.skip('no /proc/self/fd here');
      return;
    }
    const written = await putWorkbook('early.xlsx', (wb) => {
      for (const name of ['One', 'Two', 'Three']) {
        const ws = wb.addWorksheet(name);
        for (let i = 0; i < 3000; i++) ws.addRow([name, i]);
      }
    });
    const handBuilt = await put(
      'early-hand-built.xlsx',
      zip(
        workbookParts(
          [
            { name: 'One', xml: sheetXml(Array.from({ length: 3000 }, (_, i) => ['one', i])) },
            { name: 'Two', xml: sheetXml(Array.from({ length: 3000 }, (_, i) => ['two', i])) },
          ],
          { sharedStringsFirst: true },
        ),
      ),
    );
    const ownTempFiles = async () =>
      (await readdir(tmpdir())).filter((f) => f.startsWith(`tmp-${process.pid}-`)).length;
    const fdsBefore = openFds();
    const tempBefore = await ownTempFiles();
    for (const [path, sheet] of [
      [written, 'Two'],
      [written, 'One'],
      [handBuilt, 'One'],
      [handBuilt, 'Two'],
    ] as const) {
      const opened = await open(path, { sheet });
      let n = 0;
      for await (const row of opened.rows) {
        assert.equal(String(row.cells[0]).toLowerCase(), sheet.toLowerCase());
        if (++n === 10) break;
      }
      assert.equal(n, 10);
    }
    // file handles close asynchronously
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(openFds(), fdsBefore, 'file descriptors left open');
    assert.equal(await ownTempFiles(), tempBefore, 'temporary files left behind');
  });
});

// --- csv -------------------------------------------------------------------------------------

describe('csv', () => {
  test('comma, semicolon and tab are detected; decimal commas do not fool the detection', async () => {
    const cases: [string, string, string[][]][] = [
      [
        ',',
        'sku,name,qty\nA,"Pen, blue",3\nB,Ink,4\n',
        [
          ['sku', 'name', 'qty'],
          ['A', 'Pen, blue', '3'],
          ['B', 'Ink', '4'],
        ],
      ],
      [
        ';',
        'sku;price;qty\r\nA;1,50;3\r\nB;2;4\r\n',
        [
          ['sku', 'price', 'qty'],
          ['A', '1,50', '3'],
          ['B', '2', '4'],
        ],
      ],
      [
        '\t',
        'sku\tname\nA\tPen; blue, big\n',
        [
          ['sku', 'name'],
          ['A', 'Pen; blue, big'],
        ],
      ],
      [
        '|',
        'Export of stock\nsku|qty\nA|1\nB|2\n',
        [['Export of stock'], ['sku', 'qty'], ['A', '1'], ['B', '2']],
      ],
    ];
    for (const [delimiter, text, expected] of cases) {
      const opened = await open(await put('data.csv', text));
      assert.equal(opened.format, 'csv');
      assert.equal(opened.sheetName, null);
      assert.equal(opened.delimiter, delimiter);
      assert.deepEqual(
        (await rowsOf(opened)).map((r) => r.cells),
        expected,
      );
    }
  });

  test('BOM stripped, quotes with delimiters and line breaks, blank lines skipped but counted', async () => {
    const text =
      '\uFEFFsku,note,qty\r\n"A","line one\r\nline two",1\r\n\r\n,,\r\nB,"say ""hi""",\r\nC,12" screen,3';
    const opened = await open(await put('quotes.csv', text));
    assert.deepEqual(opened.warnings, []);
    const rows = await rowsOf(opened);
    assert.deepEqual(
      rows.map((r) => [r.row, r.cells]),
      [
        [1, ['sku', 'note', 'qty']],
        [2, ['A', 'line one\r\nline two', '1']],
        [5, ['B', 'say "hi"', null]],
        [6, ['C', '12" screen', '3']],
      ],
    );
  });

  test('mixed CRLF and LF line endings are read, with a warning', async () => {
    const opened = await open(await put('mixed.csv', 'sku,qty\r\nA,1\nB,2\r\nC,3\n'));
    assert.deepEqual(opened.warnings, ['the file mixes line endings (CRLF and LF); both were read']);
    assert.deepEqual(
      (await rowsOf(opened)).map((r) => r.cells),
      [
        ['sku', 'qty'],
        ['A', '1'],
        ['B', '2'],
        ['C', '3'],
      ],
    );
  });

  test('an unclosed quote is refused with the line it opens on', async () => {
    const opened = await open(await put('unclosed.csv', 'sku,qty\nA,1\n"B,2\nC,3\n'));
    const err = await refused(rowsOf(opened), FileRejectedError, 'bad-csv');
    assert.equal(err.extensions.line, 3);
    assert.match(err.message, /quote opened at line 3/);
  });

  test('text that is not UTF-8 past the first 64 KB is refused', async () => {
    const head = `sku,name\n${'A,Widget\n'.repeat(10_000)}`;
    const path = await put(
      'late-latin1.csv',
      Buffer.concat([Buffer.from(head), Buffer.from('B,Caf\xe9\n', 'latin1')]),
    );
    const opened = await open(path);
    await refused(rowsOf(opened), UnsupportedFileError);
  });

  test('a workbook named .csv is read as a workbook, with a warning; a CSV named .xls as text', async () => {
    const book = await putWorkbook('book.xlsx', (wb) => {
      wb.addWorksheet('S').addRow(['x']);
    });
    const opened = await open(book, { fileName: 'export.csv' });
    assert.equal(opened.format, 'xlsx');
    assert.match(opened.warnings[0] ?? '', /"export\.csv" but holds an Excel workbook/);
    const text = await open(await put('t.csv', 'a,b\n1,2\n'), { fileName: 'export.xls' });
    assert.equal(text.format, 'csv');
    assert.match(text.warnings[0] ?? '', /"export\.xls" but holds text/);
  });

  test('leaving the rows early closes the file', async (t) => {
    if (openFds() === -1) {
      t.skip('no /proc/self/fd here');
      return;
    }
    const path = await put('long.csv', `a,b\n${'1,2\n'.repeat(100_000)}`);
    const before = openFds();
    const opened = await open(path);
    for await (const row of opened.rows) if (row.row === 5) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(openFds(), before);
  });
});

// --- what the file is --------------------------------------------------------------------------

describe('sniffing', () => {
  const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
  const OLE2 = Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(512)]);

  test('images, legacy .xls, UTF-16 text and binaries renamed as spreadsheets are refused', async () => {
    await refused(open(await put('photo.xlsx', PNG)), UnsupportedFileError);
    const xls = await refused(open(await put('old.xls', OLE2)), UnsupportedFileError);
    assert.match(xls.message, /97-2003.*\.xlsx/);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('sku,qty\r\nA,1\r\n', 'utf16le')]);
    const u = await refused(open(await put('unicode.csv', utf16)), UnsupportedFileError);
    assert.match(u.message, /UTF-16.*CSV UTF-8/);
    const noBom = await refused(
      open(await put('nobom.csv', Buffer.from('sku,qty\r\n', 'utf16le'))),
      UnsupportedFileError,
    );
    assert.match(noBom.message, /UTF-16/);
    const binary = Buffer.from([0x41, 0x42, 0x00, 0x01, 0x02, 0x43, 0x0a, 0x00]);
    const b = await refused(open(await put('data.csv', binary)), UnsupportedFileError);
    assert.match(b.message, /binary/);
    const html = await refused(
      open(await put('report.xls', '<html><body><table><tr><td>1</td></tr></table></body></html>')),
      UnsupportedFileError,
    );
    assert.match(html.message, /web page/);
    const latin1 = await refused(
      open(await put('latin1.csv', Buffer.from('nom\nCaf\xe9\n', 'latin1'))),
      UnsupportedFileError,
    );
    assert.match(latin1.message, /not UTF-8/);
  });

  test('ZIPs that are not workbooks are refused as such', async () => {
    const plain = await refused(
      open(await put('archive.xlsx', zip([{ name: 'readme.txt', data: 'hello' }]))),
      UnsupportedFileError,
    );
    assert.match(plain.message, /ZIP archive, not an Excel workbook/);
    const xlsb = await refused(
      open(await put('b.xlsx', zip([{ name: 'xl/workbook.bin', data: 'x' }]))),
      UnsupportedFileError,
    );
    assert.match(xlsb.message, /\.xlsb/);
    const ods = await refused(
      open(
        await put(
          'o.xlsx',
          zip([
            { name: 'mimetype', data: 'application/vnd.oasis.opendocument.spreadsheet', store: true },
            { name: 'content.xml', data: '<x/>' },
          ]),
        ),
      ),
      UnsupportedFileError,
    );
    assert.match(ods.message, /OpenDocument/);
  });

  test('an empty file is refused; a UTF-8 character cut by the end of the sample is fine', async () => {
    const empty = await refused(open(await put('empty.csv', '')), FileRejectedError, 'empty-sheet');
    assert.match(empty.message, /empty/);
    const cut = Buffer.from('name\ncafé', 'utf8').subarray(0, -1);
    assert.equal(sniffFormat(cut, 'x.csv').format, 'csv');
  });
});

// --- hostile ZIPs --------------------------------------------------------------------------------

describe('zip bombs and malformed ZIPs', () => {
  test('too many entries is refused from the directory alone', async () => {
    const parts: ZipPart[] = workbookParts([{ name: 'S', xml: sheetXml([['a']]) }]);
    for (let i = 0; i < 20_000; i++) parts.push({ name: `xl/media/f${i}.bin`, data: '', store: true });
    const path = await put('entries.xlsx', zip(parts));
    const err = await refused(open(path), FileRejectedError, 'too-many-entries');
    assert.equal(err.extensions.entries, 20_003);
    assert.match(err.message, /20003 ZIP entries, more than the 1000/);
  });

  test('a high-ratio entry (200 MB of zeros) is refused before anything is inflated', async () => {
    const deflate = zlib.createDeflateRaw({ level: 9 });
    const chunks: Buffer[] = [];
    deflate.on('data', (c: Buffer) => chunks.push(c));
    const zeros = Buffer.alloc(MIB);
    for (let i = 0; i < 200; i++) {
      if (!deflate.write(zeros)) await new Promise((resolve) => deflate.once('drain', resolve));
    }
    await new Promise((resolve) => deflate.end(resolve));
    const bomb = Buffer.concat(chunks);
    const parts = workbookParts([{ name: 'S', xml: sheetXml([['a']]) }]);
    parts.push({ name: 'xl/media/image1.png', deflated: bomb, declaredSize: 200 * MIB });
    const path = await put('ratio.xlsx', zip(parts));

    const started = performance.now();
    const err = await refused(
      open(path, { limits: { ...LIMITS, maxUncompressedBytes: 500 * MIB } }),
      FileRejectedError,
      'zip-bomb',
    );
    assert.ok(performance.now() - started < 500, 'refused from the directory, without inflating');
    assert.match(err.message, /"xl\/media\/image1\.png" expands from .* KB to 200\.0 MB/);
    assert.equal(err.extensions.uncompressedBytes, 200 * MIB);

    // over the total size, whatever the ratio
    const total = await refused(
      open(path, { limits: { ...LIMITS, maxRatio: 100_000 } }),
      FileRejectedError,
      'zip-bomb',
    );
    assert.match(total.message, /expands to 200\.0 MB, more than the 100\.0 MB allowed/);
  });

  test('a lying header (1 KB declared, 50 MB inflated) is caught while inflating, in little memory', async () => {
    const bomb = zlib.deflateRawSync(Buffer.alloc(50 * MIB), { level: 9 });
    const parts = workbookParts([{ name: 'S', xml: sheetXml([['a']]) }]);
    // the sheet itself lies: exceljs would inflate all of it
    parts[2] = { name: 'xl/worksheets/sheet1.xml', deflated: bomb, declaredSize: 1024 };
    const path = await put('liar.xlsx', zip(parts));

    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 2);
    try {
      const err = await refused(open(path), FileRejectedError, 'zip-bomb');
      assert.match(
        err.message,
        /"xl\/worksheets\/sheet1\.xml" inflates to more than the 1\.0 KB its header declares/,
      );
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    assert.ok(peak - rssBefore < 100 * MIB, `RSS grew by ${Math.round((peak - rssBefore) / MIB)} MB`);
  });

  test('an entry hidden between the listed ones is never read', async () => {
    // unzipper would meet it walking the file; it is not in the directory, so nobody measured it
    const hidden = zip([{ name: 'xl/worksheets/sheet1.xml', data: sheetXml([['hidden']]) }]);
    const parts = workbookParts([{ name: 'S', xml: sheetXml([['listed']]) }]);
    const path = await put(
      'hidden-entry.xlsx',
      zip(parts, { hidden: hidden.subarray(0, hidden.indexOf(Buffer.from('PK\x01\x02', 'latin1'))) }),
    );
    assert.deepEqual(
      (await rowsOf(await open(path))).map((r) => r.cells),
      [['listed']],
    );
  });

  test('local headers that disagree with the directory are refused', async () => {
    const parts = workbookParts([{ name: 'S', xml: sheetXml([['a']]) }]);
    // every entry claims "stored" locally but "deflate" in the directory
    const path = await put('disagree.xlsx', zip(parts, { localMethod: 0 }));
    await refused(open(path), FileRejectedError, 'bad-zip');
  });

  test('ZIP64 and truncated files are refused', async () => {
    const good = zip(workbookParts([{ name: 'S', xml: sheetXml([['a']]) }]));
    const zip64 = Buffer.from(good);
    zip64.writeUInt16LE(0xffff, zip64.length - 22 + 10);
    await refused(open(await put('zip64.xlsx', zip64)), FileRejectedError, 'bad-zip');
    await refused(
      open(await put('cut.xlsx', good.subarray(0, good.length - 30))),
      FileRejectedError,
      'bad-zip',
    );
  });
});
