/**
 * For a workbook (file-sniff.ts tells one from its first bytes), a full check of its ZIP container
 * before exceljs parses any of it.
 *
 * Why check the ZIP ourselves: exceljs (through unzipper) inflates every entry to the end with no
 * limit, trusting the local headers it meets from the start of the file. A 50 KB upload can
 * expand to gigabytes, and its headers may announce sizes the data does not keep. So the central
 * directory is checked against the limits first, then every entry is inflated once with its real
 * output counted (aborted as soon as it passes what was declared), and exceljs is then handed a
 * new ZIP made of the measured bytes only (`xlsxReaderInput`, xlsx-reader-input.ts), never the
 * uploaded file itself.
 * Within those limits one text can still run to hundreds of millions of characters, which exceljs
 * would gather whole: the XML parts pass through a guard (xml-guard.ts) that cuts such texts.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import {
  FLAG_ENCRYPTED,
  MAX_ENTRIES,
  MAX_U32,
  METHOD_DEFLATE,
  METHOD_STORED,
  SIG_CENTRAL_HEADER,
  SIG_END_OF_CENTRAL_DIR,
  SIG_LOCAL_HEADER,
  SIG_ZIP64_LOCATOR,
} from '../../lib/zip-format.ts';
import { RESAVE, SAVE_AS } from './file-sniff.ts';
import { FileRejectedError, UnsupportedFileError } from './import-errors.ts';
import { XmlGuard } from './xml-guard.ts';

export interface XlsxLimits {
  /** entries in the ZIP (a workbook has a few dozen) */
  maxEntries: number;
  /** declared and real size of all entries once inflated */
  maxUncompressedBytes: number;
  /** inflated / compressed, for the whole file and for any entry over 1 MiB */
  maxRatio: number;
}

export interface SheetInfo {
  name: string;
  state: 'visible' | 'hidden' | 'veryHidden';
  /** the worksheet part in the ZIP, e.g. xl/worksheets/sheet1.xml */
  path: string;
  /** merged ranges, e.g. ['A1:B2'] (the first 1000) */
  merges: string[];
  /** the used range the file declares, e.g. 'A1:F1000' (not always present, not always true) */
  dimension?: string;
}

export interface XlsxInspection {
  /** worksheets in workbook order (chart sheets are left out: they hold no cells) */
  sheets: SheetInfo[];
  entries: number;
  /** real bytes once inflated */
  uncompressedBytes: number;
  /** dates count from 1904 instead of 1900 (old Mac workbooks) */
  date1904: boolean;
  /** every entry and where its data lies, for `xlsxReaderInput` */
  parts: XlsxPart[];
}

export interface XlsxPart {
  name: string;
  /** 0 stored, 8 deflate */
  method: number;
  compressedSize: number;
  /** what it really inflated to */
  size: number;
  /** its size once through the XML guard (XML parts; the others never reach exceljs) */
  readerSize: number;
  /** where its compressed data starts in the file */
  dataOffset: number;
}

// --- ZIP -------------------------------------------------------------------------------------

/** the end record's comment is at most this long, so the record lies in the last 22 + 65,535 bytes */
const MAX_COMMENT = 0xffff;
export const MIB = 1024 * 1024;
/** an entry this big must also keep the ratio limit on its own */
const RATIO_CHECKED_FROM = MIB;
const MAX_CENTRAL_DIRECTORY = 32 * MIB;
/** workbook.xml lists the sheets first; what follows (defined names) may be large and is not needed */
const MAX_KEPT_XML = 8 * MIB;
const READ_CHUNK = 64 * 1024;
/** zlib's default 16 KiB output chunks made inflating 30% slower; 64 KiB still aborts a bomb early */
const INFLATE_CHUNK = 64 * 1024;
/**
 * Smaller for the copy exceljs reads: each chunk becomes a batch of rows that stays alive while the
 * import validates it; with 64 KiB batches enough of them outlived young-generation collections to
 * push the peak RSS of a 100k-row dry run from ~250 MB to ~360 MB in about half the runs.
 */
export const READER_INFLATE_CHUNK = 16 * 1024;
const MAX_MERGES_KEPT = 1000;
/** Where exceljs's reader looks for the parts it needs (the names are fixed in its code). */
export const WORKBOOK = 'xl/workbook.xml';
export const WORKBOOK_RELS = 'xl/_rels/workbook.xml.rels';
export const STYLES = 'xl/styles.xml';
export const SHARED_STRINGS = 'xl/sharedStrings.xml';
export const SHEET_AS = 'xl/worksheets/sheet1.xml';

interface ZipEntry {
  name: string;
  nameBytes: Buffer;
  flags: number;
  method: number;
  compressed: number;
  size: number;
  offset: number;
}

/** Part names in a workbook are case-insensitive (ECMA-376 part 2), ZIP entry names are not. */
export const partKey = (name: string) => name.toLowerCase();

export const badZip = (detail: string) => new FileRejectedError(`${detail} ${RESAVE}`, 'bad-zip');

/**
 * Checks the ZIP container of a workbook against the limits, inflating every entry once (memory
 * stays at a few chunks whatever the file), and lists its worksheets with their merged ranges.
 */
export async function inspectXlsx(path: string, limits: XlsxLimits): Promise<XlsxInspection> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const entries = await readCentralDirectory(fh, size, limits);
    assertWorkbook(entries);
    assertDeclaredSizes(entries, limits);
    const kept = new KeptParts();
    const { parts, uncompressedBytes } = await inflateAll(fh, entries, limits, kept);
    return { ...kept.describe(), entries: entries.length, uncompressedBytes, parts };
  } finally {
    await fh.close();
  }
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw badZip('The file is truncated.');
    done += bytesRead;
  }
  return buf;
}

async function readCentralDirectory(
  fh: FileHandle,
  fileSize: number,
  limits: XlsxLimits,
): Promise<ZipEntry[]> {
  if (fileSize < 22) throw badZip('The file is too short to be a workbook; it is probably truncated.');
  // the end record is 22 bytes plus a comment of up to 64 KiB, at the very end of the file
  const tailLength = Math.min(fileSize, 22 + MAX_COMMENT);
  const tailStart = fileSize - tailLength;
  const tail = await readAt(fh, tailStart, tailLength);
  let end = -1;
  for (let p = tail.length - 22; p >= 0; p--) {
    if (
      tail.readUInt32LE(p) === SIG_END_OF_CENTRAL_DIR &&
      p + 22 + tail.readUInt16LE(p + 20) <= tail.length
    ) {
      end = p;
      break;
    }
  }
  if (end === -1) throw badZip('The file is damaged or truncated (no ZIP directory at its end).');

  const disk = tail.readUInt16LE(end + 4);
  const centralDisk = tail.readUInt16LE(end + 6);
  const onThisDisk = tail.readUInt16LE(end + 8);
  const count = tail.readUInt16LE(end + 10);
  const centralSize = tail.readUInt32LE(end + 12);
  const centralOffset = tail.readUInt32LE(end + 16);
  const zip64 =
    (end >= 20 && tail.readUInt32LE(end - 20) === SIG_ZIP64_LOCATOR) ||
    count === MAX_ENTRIES ||
    centralSize === MAX_U32 ||
    centralOffset === MAX_U32;
  if (zip64) throw badZip('The file uses the ZIP64 format, which spreadsheets never need.');
  if (disk !== 0 || centralDisk !== 0 || onThisDisk !== count) {
    throw badZip('The file is one part of a ZIP archive split across several files.');
  }
  if (count > limits.maxEntries) {
    throw new FileRejectedError(
      `The file holds ${count} ZIP entries, more than the ${limits.maxEntries} a workbook may have. ${RESAVE}`,
      'too-many-entries',
      { entries: count, limit: limits.maxEntries },
    );
  }
  if (count === 0) throw new UnsupportedFileError(`This is an empty ZIP archive, not a workbook. ${SAVE_AS}`);
  if (centralOffset + centralSize !== tailStart + end || centralSize > MAX_CENTRAL_DIRECTORY) {
    throw badZip('The ZIP directory of the file is damaged.');
  }

  const cd = await readAt(fh, centralOffset, centralSize);
  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL_HEADER) {
      throw badZip('The ZIP directory of the file is damaged.');
    }
    const nameLength = cd.readUInt16LE(p + 28);
    const next = p + 46 + nameLength + cd.readUInt16LE(p + 30) + cd.readUInt16LE(p + 32);
    if (next > cd.length) throw badZip('The ZIP directory of the file is damaged.');
    const nameBytes = cd.subarray(p + 46, p + 46 + nameLength);
    const entry: ZipEntry = {
      name: nameBytes.toString('utf8'),
      nameBytes,
      flags: cd.readUInt16LE(p + 8),
      method: cd.readUInt16LE(p + 10),
      compressed: cd.readUInt32LE(p + 20),
      size: cd.readUInt32LE(p + 24),
      offset: cd.readUInt32LE(p + 42),
    };
    if (entry.compressed === MAX_U32 || entry.size === MAX_U32 || entry.offset === MAX_U32) {
      throw badZip('The file uses the ZIP64 format, which spreadsheets never need.');
    }
    if (entry.flags & FLAG_ENCRYPTED) {
      throw badZip('Parts of the file are encrypted: remove the password in Excel first.');
    }
    if (entry.method !== METHOD_STORED && entry.method !== METHOD_DEFLATE) {
      throw badZip(
        `The file is compressed with a method this import does not read (ZIP method ${entry.method}).`,
      );
    }
    // parts are looked up by name: with two of one name, which one Excel reads is anybody's guess
    if (seen.has(partKey(entry.name))) throw badZip(`The ZIP entry "${entry.name}" appears twice.`);
    seen.add(partKey(entry.name));
    entries.push(entry);
    p = next;
  }
  return entries;
}

function assertWorkbook(entries: ZipEntry[]): void {
  const names = new Set(entries.map((e) => partKey(e.name)));
  if (names.has(WORKBOOK)) return;
  let detail = `This is a ZIP archive, not an Excel workbook. ${SAVE_AS}`;
  if (names.has('xl/workbook.bin')) {
    detail = `This is an Excel binary workbook (.xlsb), which this import cannot read. ${RESAVE}`;
  } else if (names.has('content.xml') && names.has('mimetype')) {
    detail =
      'This is an OpenDocument spreadsheet (.ods). Open it in LibreOffice or Excel and save it as ' +
      '"Excel Workbook (.xlsx)" or "CSV UTF-8".';
  } else if (names.has('word/document.xml')) {
    detail = `This is a Word document, not a spreadsheet. ${SAVE_AS}`;
  } else if (names.has('ppt/presentation.xml')) {
    detail = `This is a PowerPoint presentation, not a spreadsheet. ${SAVE_AS}`;
  }
  throw new UnsupportedFileError(detail);
}

function assertDeclaredSizes(entries: ZipEntry[], limits: XlsxLimits): void {
  let size = 0;
  let compressed = 0;
  for (const e of entries) {
    size += e.size;
    compressed += e.compressed;
    if (e.size > RATIO_CHECKED_FROM && (e.compressed === 0 || e.size / e.compressed > limits.maxRatio)) {
      throw zipBomb(
        `its part "${e.name}" expands from ${formatBytes(e.compressed)} to ${formatBytes(e.size)} ` +
          `(${formatRatio(e.size, e.compressed)}, more than the ${limits.maxRatio}:1 allowed)`,
        {
          entry: e.name,
          compressedBytes: e.compressed,
          uncompressedBytes: e.size,
          maxRatio: limits.maxRatio,
        },
      );
    }
  }
  if (size > limits.maxUncompressedBytes) {
    throw zipBomb(
      `it expands to ${formatBytes(size)}, more than the ${formatBytes(limits.maxUncompressedBytes)} allowed`,
      { uncompressedBytes: size, maxUncompressedBytes: limits.maxUncompressedBytes },
    );
  }
  if (size > 0 && (compressed === 0 || size / compressed > limits.maxRatio)) {
    throw zipBomb(
      `it expands from ${formatBytes(compressed)} to ${formatBytes(size)} ` +
        `(${formatRatio(size, compressed)}, more than the ${limits.maxRatio}:1 allowed)`,
      { compressedBytes: compressed, uncompressedBytes: size, maxRatio: limits.maxRatio },
    );
  }
}

function zipBomb(why: string, figures: Record<string, unknown>): FileRejectedError {
  return new FileRejectedError(
    `The file was refused because ${why}; this is how "zip bombs" are built. If it is a genuine ` +
      'workbook, delete unused sheets, rows and images, or split it into smaller files.',
    'zip-bomb',
    figures,
  );
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < MIB) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / MIB).toFixed(1)} MB`;
}

function formatRatio(size: number, compressed: number): string {
  return compressed === 0 ? 'from nothing' : `${Math.round(size / compressed)}:1`;
}

/**
 * Inflates every entry, counting what it really produces, and notes where its data lies for
 * `xlsxReaderInput`.
 */
async function inflateAll(
  fh: FileHandle,
  entries: ZipEntry[],
  limits: XlsxLimits,
  kept: KeptParts,
): Promise<{ parts: XlsxPart[]; uncompressedBytes: number }> {
  const parts: XlsxPart[] = [];
  let total = 0;
  // in file order, so the disk reads go forward
  for (const entry of [...entries].sort((a, b) => a.offset - b.offset)) {
    const header = await readAt(fh, entry.offset, 30);
    if (header.readUInt32LE(0) !== SIG_LOCAL_HEADER) {
      throw badZip('The file is damaged (a ZIP entry header is missing).');
    }
    const nameLength = header.readUInt16LE(26);
    const name = await readAt(fh, entry.offset + 30, nameLength);
    if (!name.equals(entry.nameBytes) || header.readUInt16LE(8) !== entry.method) {
      throw badZip(`The file is damaged (the headers of "${entry.name}" disagree).`);
    }
    if (entry.method === METHOD_STORED && entry.compressed !== entry.size) {
      throw badZip(`The file is damaged (stored entry "${entry.name}" has two sizes).`);
    }
    const dataOffset = entry.offset + 30 + nameLength + header.readUInt16LE(28);

    const sink = kept.sinkFor(entry.name);
    const guard = guardFor(entry.name);
    let produced = 0;
    let readerSize = 0;
    const count = async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        produced += chunk.length;
        total += chunk.length;
        if (produced > entry.size) {
          throw zipBomb(
            `its part "${entry.name}" inflates to more than the ${formatBytes(entry.size)} its header declares`,
            { entry: entry.name, declaredBytes: entry.size },
          );
        }
        if (total > limits.maxUncompressedBytes) {
          throw zipBomb(`it expands to more than the ${formatBytes(limits.maxUncompressedBytes)} allowed`, {
            maxUncompressedBytes: limits.maxUncompressedBytes,
          });
        }
        sink?.write(chunk);
        if (guard) readerSize += guard.measure(chunk);
      }
    };
    const raw = readRange(fh, dataOffset, entry.compressed);
    try {
      // pipeline destroys the inflater at the first error: the rest of a bomb is never inflated
      if (entry.method === METHOD_STORED) await count(raw);
      else await pipeline(raw, zlib.createInflateRaw({ chunkSize: INFLATE_CHUNK }), count);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('Z_')) {
        throw badZip(`The file is damaged ("${entry.name}" cannot be decompressed).`);
      }
      throw err;
    }
    sink?.end();
    parts.push({
      name: entry.name,
      method: entry.method,
      compressedSize: entry.compressed,
      size: produced,
      readerSize: guard ? readerSize : produced,
      dataOffset,
    });
  }
  return { parts, uncompressedBytes: total };
}

/** The bytes of [start, start + length), in fresh chunks (they are handed on, never reused). */
export async function* readRange(fh: FileHandle, start: number, length: number): AsyncGenerator<Buffer> {
  const end = start + length;
  let pos = start;
  while (pos < end) {
    const want = Math.min(READ_CHUNK, end - pos);
    const buf = Buffer.allocUnsafe(want);
    const { bytesRead } = await fh.read(buf, 0, want, pos);
    if (bytesRead === 0) throw badZip('The file is truncated.');
    pos += bytesRead;
    yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
  }
}

/** The XML guard of a part exceljs may read (xml-guard.ts); none for the others. */
export function guardFor(name: string): XmlGuard | undefined {
  const key = partKey(name);
  if (!key.endsWith('.xml') && !key.endsWith('.rels')) return undefined;
  return new XmlGuard(name, key === partKey(SHARED_STRINGS) ? 'sharedStrings' : 'worksheet');
}

// --- the parts the import needs -----------------------------------------------------------------

interface Sink {
  write(chunk: Buffer): void;
  end(): void;
}

/** What is kept while inflating: workbook.xml and its relationships, and a scan of each XML part. */
class KeptParts {
  private workbook = '';
  private rels = '';
  private readonly scans = new Map<string, { merges: string[]; dimension?: string }>();

  sinkFor(name: string): Sink | undefined {
    const key = partKey(name);
    if (key === WORKBOOK) return this.text((t) => (this.workbook = t));
    if (key === WORKBOOK_RELS) return this.text((t) => (this.rels = t));
    // which parts are worksheets is known only once the relationships are read: scan every XML part
    if (key.endsWith('.xml')) {
      const scan: { merges: string[]; dimension?: string } = { merges: [] };
      this.scans.set(key, scan);
      return new TagScanner(scan);
    }
    return undefined;
  }

  private text(done: (text: string) => void): Sink {
    const chunks: Buffer[] = [];
    let kept = 0;
    return {
      write(chunk) {
        if (kept >= MAX_KEPT_XML) return;
        chunks.push(chunk);
        kept += chunk.length;
      },
      end() {
        done(Buffer.concat(chunks).toString('utf8'));
      },
    };
  }

  describe(): { sheets: SheetInfo[]; date1904: boolean } {
    const targets = new Map<string, string>();
    for (const m of this.rels.matchAll(/<(?:[\w.-]+:)?Relationship\s([^>]*?)\/?>/g)) {
      const a = attributes(m[1]!);
      if (a.Id === undefined || a.Target === undefined || a.TargetMode === 'External') continue;
      if (!a.Type?.endsWith('/worksheet')) continue;
      targets.set(a.Id, resolveTarget(a.Target));
    }
    const sheets: SheetInfo[] = [];
    for (const m of this.workbook.matchAll(/<(?:[\w.-]+:)?sheet\s([^>]*?)\/?>/g)) {
      const a = attributes(m[1]!);
      const rid = Object.entries(a).find(([k]) => k.endsWith(':id'))?.[1];
      const path = rid === undefined ? undefined : targets.get(rid);
      if (a.name === undefined || path === undefined) continue;
      const scan = this.scans.get(partKey(path));
      const state = a.state === 'hidden' || a.state === 'veryHidden' ? a.state : 'visible';
      sheets.push({
        name: a.name,
        state,
        path,
        merges: scan?.merges ?? [],
        ...(scan?.dimension === undefined ? {} : { dimension: scan.dimension }),
      });
    }
    const pr = /<(?:[\w.-]+:)?workbookPr\s([^>]*?)\/?>/.exec(this.workbook);
    const date1904 = pr ? ['1', 'true'].includes(attributes(pr[1]!).date1904 ?? '') : false;
    return { sheets, date1904 };
  }
}

/** Relationship targets are relative to xl/, or absolute from the package root (openpyxl writes those). */
function resolveTarget(target: string): string {
  return target.startsWith('/') ? posix.normalize(target.slice(1)) : posix.normalize(`xl/${target}`);
}

/** The attributes of a start tag, entities decoded. */
function attributes(source: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of source.matchAll(/([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    out[m[1]!] = decodeEntities(m[2] ?? m[3] ?? '');
  }
  return out;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (whole, ref: string) => {
    if (ref[0] !== '#') return ENTITIES[ref] ?? whole;
    const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

const TAG = /<(?:[\w.-]+:)?(mergeCell|dimension)(?=[\s/>])[^>]*>/g;
const REF = /\sref\s*=\s*(?:"([^"]*)"|'([^']*)')/;
const LT = 0x3c;
const MAX_CARRY = 4096;
/** enough of the next chunk to complete a keyword cut by the boundary */
const KEYWORD_OVERLAP = 16;

/**
 * Finds `<mergeCell ref>` and `<dimension ref>` in a streamed worksheet without parsing it. A tag
 * cut by a chunk boundary is completed by carrying the text from the last `<` into the next chunk.
 */
class TagScanner implements Sink {
  private carry = '';

  constructor(private readonly scan: { merges: string[]; dimension?: string }) {}

  write(chunk: Buffer): void {
    // most chunks are cell data: a byte search rules them out faster than decoding and matching
    const joint = this.carry + chunk.toString('latin1', 0, Math.min(chunk.length, KEYWORD_OVERLAP));
    if (
      chunk.indexOf('mergeCell') === -1 &&
      chunk.indexOf('dimension') === -1 &&
      !joint.includes('mergeCell') &&
      !joint.includes('dimension')
    ) {
      const lt = chunk.lastIndexOf(LT);
      this.carry = lt !== -1 && chunk.length - lt < MAX_CARRY ? chunk.toString('latin1', lt) : '';
      return;
    }
    // refs are ASCII, and latin1 keeps one character per byte, so nothing is cut in half
    const text = this.carry + chunk.toString('latin1');
    TAG.lastIndex = 0;
    let scanned = 0;
    for (let m = TAG.exec(text); m !== null; m = TAG.exec(text)) {
      scanned = TAG.lastIndex;
      const ref = REF.exec(m[0]);
      const value = ref?.[1] ?? ref?.[2];
      if (value === undefined) continue;
      if (m[1] === 'dimension') this.scan.dimension ??= value;
      else if (this.scan.merges.length < MAX_MERGES_KEPT) this.scan.merges.push(value);
    }
    const lt = text.lastIndexOf('<');
    // a tag never runs for kilobytes: a longer "tag" is not one of ours
    this.carry = lt >= scanned && text.length - lt < MAX_CARRY ? text.slice(lt) : '';
  }

  end(): void {
    this.carry = '';
  }
}
