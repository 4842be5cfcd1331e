/**
 * The XML guard between an uploaded workbook and exceljs: real workbook parts pass unchanged, an
 * overlong value is cut at a character boundary and the next one is whole again, CDATA is emptied,
 * overlong markup is refused, and the output does not depend on how the input is chunked.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import { inspectXlsx } from '../src/services/imports/file-inspect.ts';
import { FileRejectedError } from '../src/services/imports/import-errors.ts';
import { MARKUP_MAX, TEXT_KEPT, XmlGuard, type XmlGuardMode } from '../src/services/imports/xml-guard.ts';

/** The guard's output for `xml` fed in pieces of `step` bytes (0: at once). */
function guarded(xml: string | Buffer, mode: XmlGuardMode = 'worksheet', step = 0): string {
  const guard = new XmlGuard('xl/worksheets/sheet1.xml', mode);
  const input = typeof xml === 'string' ? Buffer.from(xml) : xml;
  const out: Buffer[] = [];
  const size = step || input.length;
  let measured = 0;
  const twin = new XmlGuard('xl/worksheets/sheet1.xml', mode);
  for (let i = 0; i < input.length; i += size) {
    out.push(...guard.write(input.subarray(i, i + size)));
    measured += twin.measure(input.subarray(i, i + size));
  }
  const text = Buffer.concat(out);
  assert.equal(measured, text.length, 'measure() counts what write() passes on');
  return text.toString('utf8');
}

/** The same output whatever the chunking: at once, byte by byte, and in odd pieces. */
function guardedEverywhere(xml: string, mode: XmlGuardMode = 'worksheet'): string {
  const whole = guarded(xml, mode);
  for (const step of [1, 7, 4096]) assert.equal(guarded(xml, mode, step), whole, `chunks of ${step} bytes`);
  return whole;
}

const texts = (xml: string) => [...xml.matchAll(/<t>([^<]*)<\/t>/g)].map((m) => m[1]!);

describe('xml guard', () => {
  test('parts exceljs writes pass unchanged: rich text, entities, accents, emoji, formulas', async (t) => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('S');
    ws.addRow(['Fish & Chips <large>', 'Crème brûlée 🍮', 42.5, new Date(Date.UTC(2026, 0, 2))]);
    ws.addRow([{ richText: [{ text: 'bold ', font: { bold: true } }, { text: 'plain' }] }]);
    ws.addRow([{ formula: 'A1&"x"', result: 'Fish & Chips <large>x' }, 'x'.repeat(32_767)]);
    const dir = await mkdtemp(join(tmpdir(), 'xml-guard-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'book.xlsx');
    await wb.xlsx.writeFile(path);
    const file = await readFile(path);
    const inspection = await inspectXlsx(path, {
      maxEntries: 100,
      maxUncompressedBytes: 100 * 1024 * 1024,
      maxRatio: 1000,
    });
    const xmlParts = inspection.parts.filter((p) => /\.(xml|rels)$/.test(p.name));
    assert.ok(xmlParts.length >= 6, xmlParts.map((p) => p.name).join(', '));
    for (const part of xmlParts) {
      assert.equal(part.readerSize, part.size, `${part.name} is passed on as it is`);
      const data = file.subarray(part.dataOffset, part.dataOffset + part.compressedSize);
      const xml = (part.method === 0 ? data : inflateRawSync(data)).toString('utf8');
      const mode = part.name === 'xl/sharedStrings.xml' ? 'sharedStrings' : 'worksheet';
      assert.equal(guardedEverywhere(xml, mode), xml, part.name);
    }
  });

  test('an inline text past TEXT_KEPT characters is cut there; the next cell is whole', () => {
    for (const [unit, bytes] of [
      ['x', 1],
      ['é', 2],
      ['€', 3],
      ['&amp;', 5],
    ] as const) {
      const long = unit.repeat(TEXT_KEPT + 10_000);
      const xml =
        `<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>${long}</t></is></c>` +
        `<c r="B1" t="inlineStr"><is><t>${unit.repeat(10)}</t></is></c></row></sheetData>`;
      const out = guardedEverywhere(xml);
      const [first, second] = texts(out);
      assert.equal(first, unit.repeat(TEXT_KEPT), `${unit}: cut after ${TEXT_KEPT} characters`);
      assert.equal(second, unit.repeat(10));
      assert.equal(Buffer.byteLength(out), Buffer.byteLength(xml) - 10_000 * bytes);
    }
  });

  test('text of a cell that Excel could hold is never cut, even with two bytes per character counted', () => {
    // a CR before every line feed: counted twice, read once; the cell is within Excel's limit
    const text = '\r\n'.repeat(32_767);
    const xml = `<c r="A1" t="inlineStr"><is><t>${text}</t></is></c>`;
    assert.equal(guardedEverywhere(xml), xml);
  });

  test('a shared string is cut as a whole, rich-text runs and all; the next one is whole', () => {
    const run = (text: string) => `<r><rPr><b/></rPr><t>${text}</t></r>`;
    const xml =
      `<sst><si>${run('a'.repeat(40_000))}${run('b'.repeat(40_000))}${run('c'.repeat(40_000))}</si>` +
      `<si><t>${'d'.repeat(TEXT_KEPT)}</t></si></sst>`;
    const out = guardedEverywhere(xml, 'sharedStrings');
    assert.deepEqual(
      texts(out).map((t) => t.length),
      [40_000, TEXT_KEPT - 40_000, 0, TEXT_KEPT],
    );
    // the runs' markup stays: exceljs still reads three runs
    assert.equal(out.match(/<r>/g)?.length, 3);
    // in a worksheet, each <t> starts a value of its own
    assert.deepEqual(
      texts(guardedEverywhere(xml)).map((t) => t.length),
      [40_000, 40_000, 40_000, TEXT_KEPT],
    );
  });

  test('text between cells, which exceljs appends to the last value, is bounded too', () => {
    const junk = `<x/>${'y'.repeat(50_000)}`.repeat(4);
    const xml = `<row r="1"><c r="A1"><v>1</v></c>${junk}<c r="B1"><v>2</v></c></row>`;
    const out = guardedEverywhere(xml);
    assert.equal(out.replace(/[^y]/g, '').length, TEXT_KEPT - 1);
    assert.match(out, /<c r="B1"><v>2<\/v><\/c><\/row>$/);
  });

  test('attribute values may hold > and quotes of the other kind; prefixes are read as their local name', () => {
    const long = 'z'.repeat(TEXT_KEPT + 5);
    const xml =
      `<x:c r="A1" note='a>b"c'><x:v>${long}</x:v></x:c>` +
      `<x:c r="B1" note="d>e'f"><x:v>${long}</x:v></x:c>`;
    const out = guardedEverywhere(xml);
    assert.equal(out, xml.replaceAll(long, 'z'.repeat(TEXT_KEPT)));
  });

  test('CDATA is emptied; comments, processing instructions and declarations pass', () => {
    const xml =
      '<?xml version="1.0"?><!-- a <comment> -- with dashes --><!DOCTYPE x>' +
      `<c><v><![CDATA[${'q'.repeat(200_000)}]]]></v></c><?pi x?>`;
    assert.equal(
      guardedEverywhere(xml),
      '<?xml version="1.0"?><!-- a <comment> -- with dashes --><!DOCTYPE x><c><v><![CDATA[]]></v></c><?pi x?>',
    );
  });

  test('a tag, comment or processing instruction longer than MARKUP_MAX is refused', () => {
    const pad = 'p'.repeat(MARKUP_MAX);
    for (const xml of [
      `<c r="${pad}">`,
      `<c r="A1" ${pad}>`,
      `<!--${pad}-->`,
      `<?pi ${pad}?>`,
      `<!DOCTYPE ${pad}>`,
    ]) {
      assert.throws(
        () => guarded(xml, 'worksheet', 64 * 1024),
        (err: unknown) =>
          err instanceof FileRejectedError &&
          err.extensions.reason === 'unreadable-sheet' &&
          /xl\/worksheets\/sheet1\.xml holds an XML tag or comment longer than 1 MB/.test(err.message),
        xml.slice(0, 12),
      );
    }
    // a long text is no markup: cut, not refused
    assert.equal(guarded(`<c><v>${pad}</v></c>`).length, `<c><v></v></c>`.length + TEXT_KEPT);
  });
});
