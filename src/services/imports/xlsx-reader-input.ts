/**
 * What exceljs is handed for a checked workbook: a new, stored ZIP of only the parts one sheet
 * needs, as `inspectXlsx` measured them, each XML part through the text guard (see file-inspect.ts
 * for why the upload itself is never handed over, and `xlsxReaderInput` below for the order).
 */
import { type FileHandle, open } from 'node:fs/promises';
import { Readable, pipeline as streamPipeline } from 'node:stream';
import zlib from 'node:zlib';
import {
  FLAG_UTF8_NAME,
  METHOD_STORED,
  SIG_END_OF_CENTRAL_DIR,
  SIG_LOCAL_HEADER,
  VERSION_NEEDED,
} from '../../lib/zip-format.ts';
import {
  badZip,
  guardFor,
  MIB,
  partKey,
  READER_INFLATE_CHUNK,
  readRange,
  SHARED_STRINGS,
  SHEET_AS,
  type SheetInfo,
  STYLES,
  WORKBOOK,
  WORKBOOK_RELS,
  type XlsxInspection,
  type XlsxPart,
} from './file-inspect.ts';
import { RESAVE } from './file-sniff.ts';
import { FileRejectedError } from './import-errors.ts';

const EMPTY_SHARED_STRINGS = Buffer.from(
  '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0"/>',
);
/** more than the stream buffers between this stream and exceljs can hold (16 to 64 KiB each) */
const PADDING_BYTES = 2 * MIB;
const ZEROS = Buffer.alloc(64 * 1024);

type Piece = { name: string; data: Buffer } | (XlsxPart & { as: string });

/**
 * The ZIP handed to exceljs's streaming reader (the file is opened on the first read): a new
 * archive of only the parts it needs for one sheet, in the order it needs them, holding what
 * `inspectXlsx` measured, inflated again, through the XML guard (whose output size the inspection
 * measured too) and stored.
 *
 * - Nothing reaches exceljs that was not measured: no entry hidden between others, no other sheet
 *   (which it would otherwise inflate and parse just to skip), and since the parts are inflated
 *   here, with their sizes checked again, not even a file changed after its inspection.
 * - Workbook, relationships, styles and shared strings come first, whatever the file's order:
 *   exceljs needs the styles to recognise dates, and it spools a sheet that comes before the
 *   shared strings to a temporary file (so a workbook without any gets an empty list). The sheet
 *   is renamed to the one name pattern exceljs accepts.
 * - unzipper emits 'end' as soon as it parses the end of the archive, even with entries still
 *   queued for exceljs, which then drops them silently: uploaded as they were, a small workbook
 *   ending with its shared strings read `{ sharedString: n }` in every text cell (see the tests).
 *   The order above has not shown it, as no temporary file is written while entries queue, but
 *   it only makes the race unlikely: a last entry bigger than every buffer in between holds
 *   unzipper back until exceljs has taken everything before it.
 */
export function xlsxReaderInput(path: string, inspection: XlsxInspection, sheet: SheetInfo): Readable {
  const byName = new Map(inspection.parts.map((p) => [partKey(p.name), p]));
  const part = (name: string, as = name): Piece | undefined => {
    const found = byName.get(partKey(name));
    return found ? { ...found, as } : undefined;
  };
  const sheetPart = part(sheet.path, SHEET_AS);
  if (!sheetPart) {
    throw new FileRejectedError(
      `The sheet "${sheet.name}" cannot be read: the workbook lists it, but its part ${sheet.path} is missing. ${RESAVE}`,
      'unreadable-sheet',
      { sheet: sheet.name },
    );
  }
  const pieces = [
    part(WORKBOOK),
    part(WORKBOOK_RELS),
    part(STYLES),
    part(SHARED_STRINGS) ?? { name: SHARED_STRINGS, data: EMPTY_SHARED_STRINGS },
    sheetPart,
  ].filter((p): p is Piece => p !== undefined);
  return Readable.from(canonicalZip(path, pieces), { objectMode: false });
}

async function* canonicalZip(path: string, pieces: Piece[]): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    for (const piece of pieces) {
      if ('data' in piece) {
        yield localHeader(piece.name, piece.data.length);
        yield piece.data;
        continue;
      }
      yield localHeader(piece.as, piece.readerSize);
      const guard = guardFor(piece.name);
      let produced = 0;
      let sent = 0;
      for await (const chunk of partData(fh, piece)) {
        produced += chunk.length;
        if (produced > piece.size) break;
        for (const bytes of guard ? guard.write(chunk) : [chunk]) {
          sent += bytes.length;
          yield bytes;
        }
      }
      if (produced !== piece.size || sent !== piece.readerSize) {
        throw badZip('The file changed while it was being read.');
      }
    }
    yield localHeader('padding', PADDING_BYTES);
    for (let sent = 0; sent < PADDING_BYTES; sent += ZEROS.length) yield ZEROS;
    // an end record with no directory: unzipper reads it only to stop
    const end = Buffer.alloc(22);
    end.writeUInt32LE(SIG_END_OF_CENTRAL_DIR, 0);
    yield end;
  } finally {
    await fh.close();
  }
}

function partData(fh: FileHandle, part: XlsxPart): AsyncIterable<Buffer> {
  const raw = readRange(fh, part.dataOffset, part.compressedSize);
  if (part.method === METHOD_STORED) return raw;
  return streamPipeline(raw, zlib.createInflateRaw({ chunkSize: READER_INFLATE_CHUNK }), () => {
    // an error destroys the inflater, whose iteration throws it
  });
}

/** The local header of a stored entry, sizes written in (no data descriptor), no CRC: unzipper checks none. */
function localHeader(name: string, size: number): Buffer {
  const nameBytes = Buffer.from(name);
  const header = Buffer.alloc(30 + nameBytes.length);
  header.writeUInt32LE(SIG_LOCAL_HEADER, 0);
  header.writeUInt16LE(VERSION_NEEDED, 4);
  header.writeUInt16LE(FLAG_UTF8_NAME, 6);
  header.writeUInt16LE(METHOD_STORED, 8);
  header.writeUInt32LE(size, 18);
  header.writeUInt32LE(size, 22);
  header.writeUInt16LE(nameBytes.length, 26);
  nameBytes.copy(header, 30);
  return header;
}
