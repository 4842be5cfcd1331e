/**
 * What an uploaded file really is, decided by its first bytes rather than its name: an Excel
 * workbook (a ZIP, checked further by file-inspect.ts), UTF-8 text read as CSV, or one of the
 * formats people upload by mistake, refused with what to do instead.
 */
import { isUtf8 } from 'node:buffer';
import { FileRejectedError, UnsupportedFileError } from './import-errors.ts';

export type FileFormat = 'xlsx' | 'csv';

export const SAVE_AS =
  'Upload an Excel workbook (.xlsx) or a CSV file saved as "CSV UTF-8 (Comma delimited)".';
export const RESAVE = 'Open it in Excel, save it again as "Excel Workbook (.xlsx)" and upload that file.';

const hex = (s: string) => Buffer.from(s, 'hex');
const ascii = (s: string) => Buffer.from(s, 'latin1');

/** Formats whose first bytes tell what they are, with what to do instead. */
const KNOWN_BINARIES: { magic: Buffer; detail: string }[] = [
  {
    magic: hex('d0cf11e0a1b11ae1'),
    detail:
      'This is an Excel 97-2003 workbook (.xls) or a password-protected file, which this import cannot read. ' +
      'Open it in Excel, remove any password, and save it as "Excel Workbook (.xlsx)" or "CSV UTF-8".',
  },
  { magic: ascii('%PDF'), detail: `This is a PDF document, not a spreadsheet. ${SAVE_AS}` },
  { magic: hex('89504e470d0a1a0a'), detail: `This is a PNG image, not a spreadsheet. ${SAVE_AS}` },
  { magic: hex('ffd8ff'), detail: `This is a JPEG image, not a spreadsheet. ${SAVE_AS}` },
  { magic: ascii('GIF8'), detail: `This is a GIF image, not a spreadsheet. ${SAVE_AS}` },
  {
    magic: hex('1f8b'),
    detail: `This is a gzip archive: upload the spreadsheet itself, not an archive. ${SAVE_AS}`,
  },
  {
    magic: ascii('7z\xbc\xaf\x27\x1c'),
    detail: `This is a 7-Zip archive: upload the spreadsheet itself. ${SAVE_AS}`,
  },
  {
    magic: ascii('Rar!\x1a\x07'),
    detail: `This is a RAR archive: upload the spreadsheet itself. ${SAVE_AS}`,
  },
  { magic: ascii('BZh'), detail: `This is a bzip2 archive: upload the spreadsheet itself. ${SAVE_AS}` },
  { magic: hex('fd377a585a00'), detail: `This is an xz archive: upload the spreadsheet itself. ${SAVE_AS}` },
  { magic: ascii('\x7fELF'), detail: `This is a program, not a spreadsheet. ${SAVE_AS}` },
  { magic: ascii('{\\rtf'), detail: `This is a rich text (RTF) document, not a spreadsheet. ${SAVE_AS}` },
  { magic: ascii('PK\x05\x06'), detail: `This is an empty ZIP archive, not a workbook. ${SAVE_AS}` },
  {
    magic: ascii('PK\x07\x08'),
    detail: `This is one part of a ZIP archive split into several files. ${SAVE_AS}`,
  },
];

const UTF16 =
  'This CSV is saved as Unicode (UTF-16) text. In Excel use "Save As" > "CSV UTF-8 (Comma delimited)" and upload that file.';

const XLSX_NAMES = new Set(['xlsx', 'xlsm', 'xltx', 'xltm']);
const TEXT_NAMES = new Set(['csv', 'txt', 'tsv', 'tab']);

/**
 * The format of a file from its first bytes (the first 64 KB is plenty). The name only adds a
 * warning when it disagrees, since users rename files and systems export CSV as ".xls".
 */
export function sniffFormat(head: Buffer, fileName: string): { format: FileFormat; warnings: string[] } {
  if (head.length === 0) {
    throw new FileRejectedError('The file is empty: export the data again.', 'empty-sheet');
  }
  const ext = /\.([^./\\]+)$/.exec(fileName)?.[1]?.toLowerCase() ?? '';

  if (startsWith(head, ascii('PK\x03\x04'))) {
    const warnings =
      ext === '' || XLSX_NAMES.has(ext)
        ? []
        : [`the file is named "${fileName}" but holds an Excel workbook; it was read as a workbook`];
    return { format: 'xlsx', warnings };
  }
  for (const known of KNOWN_BINARIES) {
    if (startsWith(head, known.magic)) throw new UnsupportedFileError(known.detail);
  }
  if (startsWith(head, hex('fffe')) || startsWith(head, hex('feff'))) throw new UnsupportedFileError(UTF16);

  const nul = head.indexOf(0);
  if (nul !== -1) {
    // UTF-16 without a byte order mark: every other byte of ASCII text is zero
    throw new UnsupportedFileError(
      looksLikeUtf16(head) ? UTF16 : `This file holds binary data, not a spreadsheet. ${SAVE_AS}`,
    );
  }
  const bad = invalidUtf8At(head);
  if (bad !== -1) {
    throw new UnsupportedFileError(
      'This CSV is not UTF-8 text (it was probably saved as "CSV (Comma delimited)", which uses the Windows ' +
        'character set and garbles accents). In Excel use "Save As" > "CSV UTF-8 (Comma delimited)" and upload that file.',
      { offset: bad },
    );
  }
  const start = head
    .toString('utf8', 0, Math.min(head.length, 1024))
    .replace(/^\uFEFF?\s*/, '')
    .toLowerCase();
  if (start.startsWith('<html') || start.startsWith('<!doctype html') || start.startsWith('<table')) {
    throw new UnsupportedFileError(
      'This is a web page (HTML) with a spreadsheet name, as some systems export "Excel" files. ' +
        'Open it in Excel and save it as "Excel Workbook (.xlsx)", or export the data as CSV.',
    );
  }
  if (start.startsWith('<?xml') && start.includes('urn:schemas-microsoft-com:office:spreadsheet')) {
    throw new UnsupportedFileError(`This is an Excel 2003 XML spreadsheet. ${RESAVE}`);
  }
  const warnings =
    ext === '' || TEXT_NAMES.has(ext)
      ? []
      : [`the file is named "${fileName}" but holds text; it was read as a CSV file`];
  return { format: 'csv', warnings };
}

function startsWith(buf: Buffer, magic: Buffer): boolean {
  return buf.length >= magic.length && buf.compare(magic, 0, magic.length, 0, magic.length) === 0;
}

function looksLikeUtf16(head: Buffer): boolean {
  const n = Math.min(head.length, 512) & ~1;
  let even = 0;
  let odd = 0;
  for (let i = 0; i < n; i += 2) {
    if (head[i] === 0) even++;
    if (head[i + 1] === 0) odd++;
  }
  return n >= 4 && Math.max(even, odd) >= n / 2 / 3;
}

/**
 * Offset of the first byte that is not valid UTF-8, or -1. A sequence cut by the end of the
 * buffer counts as valid: the buffer is usually the first 64 KB of a longer file.
 */
function invalidUtf8At(buf: Buffer): number {
  if (isUtf8(buf)) return -1;
  const n = buf.length;
  let i = 0;
  while (i < n) {
    const c = buf[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) need = 2;
    else if (c >= 0xf0 && c <= 0xf4) need = 3;
    else return i;
    // narrower second-byte ranges rule out overlong forms, surrogates and code points past U+10FFFF
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return -1;
      const d = buf[i + k]!;
      if (k === 1 ? d < lo || d > hi : d < 0x80 || d > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}
