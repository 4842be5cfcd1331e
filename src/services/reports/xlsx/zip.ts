/**
 * The ZIP container of an XLSX, for two needs exceljs does not meet:
 * - determinism: exceljs zips with JSZip, which stamps every entry with the current time and offers
 *   no option for it, so the same workbook differs from one second to the next;
 *   `setZipEntryTimes` rewrites those stamps in place.
 * - streaming: exceljs's streaming writer has no backpressure (rows pile up in memory while the
 *   compressor lags, 800 MB for 1M lines); `ZipWriter` compresses a streamed entry chunk by chunk
 *   and waits for the output to drain.
 *
 * Plain ZIP (no ZIP64): an entry or the whole file must stay under 4 GiB, checked and refused
 * otherwise. Entry times are MS-DOS times, written from the UTC fields of the given date so the
 * bytes do not depend on the machine's time zone.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import {
  FLAG_DATA_DESCRIPTOR,
  FLAG_UTF8_NAME,
  MAX_ENTRIES,
  MAX_U32,
  METHOD_DEFLATE,
  SIG_CENTRAL_HEADER,
  SIG_DATA_DESCRIPTOR,
  SIG_END_OF_CENTRAL_DIR,
  SIG_LOCAL_HEADER,
  VERSION_NEEDED,
} from '../../../lib/zip-format.ts';

/** chunks being compressed at once by a streamed entry */
const PIECES_IN_FLIGHT = 3;
const deflateRaw = promisify(zlib.deflateRaw);

/** MS-DOS date and time fields (2-second resolution, 1980–2107) of an instant, in UTC. */
export function dosDateTime(at: Date): { date: number; time: number } {
  const t = at.getTime();
  const min = Date.UTC(1980, 0, 1);
  const max = Date.UTC(2107, 11, 31, 23, 59, 58);
  const d = new Date(Number.isFinite(t) ? Math.min(max, Math.max(min, t)) : min);
  return {
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
  };
}

/**
 * Sets the modification time of every entry of a finished ZIP (local and central headers), in
 * place, and returns the same buffer. Walks the central directory, so it works for any plain ZIP.
 */
export function setZipEntryTimes(zip: Buffer, at: Date): Buffer {
  const { date, time } = dosDateTime(at);
  const end = findEndOfCentralDirectory(zip);
  const count = zip.readUInt16LE(end + 10);
  let p = zip.readUInt32LE(end + 16);
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== SIG_CENTRAL_HEADER) throw new Error('malformed zip: central directory');
    zip.writeUInt16LE(time, p + 12);
    zip.writeUInt16LE(date, p + 14);
    const local = zip.readUInt32LE(p + 42);
    if (zip.readUInt32LE(local) !== SIG_LOCAL_HEADER) throw new Error('malformed zip: local header');
    zip.writeUInt16LE(time, local + 10);
    zip.writeUInt16LE(date, local + 12);
    p += 46 + zip.readUInt16LE(p + 28) + zip.readUInt16LE(p + 30) + zip.readUInt16LE(p + 32);
  }
  return zip;
}

/** The entries of a ZIP with their MS-DOS date and time, from the central directory. */
export function zipEntryTimes(zip: Buffer): { name: string; date: number; time: number }[] {
  const end = findEndOfCentralDirectory(zip);
  const count = zip.readUInt16LE(end + 10);
  let p = zip.readUInt32LE(end + 16);
  const out: { name: string; date: number; time: number }[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== SIG_CENTRAL_HEADER) throw new Error('malformed zip: central directory');
    const nameLength = zip.readUInt16LE(p + 28);
    out.push({
      name: zip.toString('utf8', p + 46, p + 46 + nameLength),
      time: zip.readUInt16LE(p + 12),
      date: zip.readUInt16LE(p + 14),
    });
    p += 46 + nameLength + zip.readUInt16LE(p + 30) + zip.readUInt16LE(p + 32);
  }
  return out;
}

function findEndOfCentralDirectory(zip: Buffer): number {
  // the record is 22 bytes plus a comment of up to 64 KiB, at the very end
  const stop = Math.max(0, zip.length - 22 - 0xffff);
  for (let p = zip.length - 22; p >= stop; p--) {
    if (zip.readUInt32LE(p) === SIG_END_OF_CENTRAL_DIR) return p;
  }
  throw new Error('malformed zip: no end of central directory');
}

// zlib.crc32 exists from Node 20.15; the table version keeps older 20.x working
const crc32: (data: Buffer, value: number) => number =
  typeof zlib.crc32 === 'function' ? zlib.crc32 : tableCrc32;

let crcTable: Uint32Array | undefined;
function tableCrc32(data: Buffer, value: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = ~value >>> 0;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

interface CentralEntry {
  name: Buffer;
  flags: number;
  crc: number;
  compressed: number;
  size: number;
  offset: number;
}

/**
 * The stream an export is written to, with backpressure, and with its errors (a client gone, a full
 * disk) turned into a rejection of the next write instead of an unhandled 'error' event.
 */
export class Output {
  private failure: Error | undefined;
  private readonly onError = (err: Error) => {
    this.failure ??= err;
  };

  constructor(private readonly stream: NodeJS.WritableStream) {
    stream.on('error', this.onError);
  }

  async write(chunk: Buffer | string): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.stream.write(chunk)) await this.drained();
  }

  /** Ends the stream and waits until it has taken everything. */
  async end(): Promise<void> {
    if (this.failure) throw this.failure;
    const finished = once(this.stream, 'finish');
    this.stream.end();
    await finished;
  }

  /** Hands error handling back to the stream's owner. */
  release(): void {
    this.stream.off('error', this.onError);
  }

  private async drained(): Promise<void> {
    const state = this.stream as Partial<Writable>;
    if (state.writableNeedDrain === false) return;
    const ac = new AbortController();
    try {
      await Promise.race([
        once(this.stream, 'drain', { signal: ac.signal }),
        once(this.stream, 'close', { signal: ac.signal }).then(() => {
          throw this.failure ?? new Error('output closed before the export was written');
        }),
      ]);
    } finally {
      ac.abort();
    }
    if (this.failure) throw this.failure;
  }
}

/** A streamed entry: write its content in chunks, then close it before starting another. */
export interface ZipEntryWriter {
  write(chunk: string | Buffer): Promise<void>;
  close(): Promise<void>;
}

/** Writes a ZIP to a stream, one entry after the other, with backpressure. */
export class ZipWriter {
  private offset = 0;
  private readonly entries: CentralEntry[] = [];
  private readonly date: number;
  private readonly time: number;
  private busy = false;

  constructor(
    private readonly out: Output,
    at: Date,
    private readonly level = zlib.constants.Z_DEFAULT_COMPRESSION,
  ) {
    ({ date: this.date, time: this.time } = dosDateTime(at));
  }

  /** A small entry whose content is at hand: compressed at once, sizes in the local header. */
  async addFile(name: string, content: string | Buffer): Promise<void> {
    this.claim();
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const compressed = zlib.deflateRawSync(data, { level: this.level });
    const entry = this.begin(name, FLAG_UTF8_NAME, crc32(data, 0), compressed.length, data.length);
    this.checkSize(entry);
    await this.push(this.localHeader(entry));
    await this.push(compressed);
    this.busy = false;
  }

  /**
   * A large entry written in chunks: sizes and CRC follow the data in a data descriptor.
   *
   * Each chunk is deflated on its own, on the thread pool, a few at a time (as pigz does): every
   * piece but the last ends with a sync flush, so the pieces concatenate into one valid deflate
   * stream, losing only back-references across pieces (chunks of 1 MiB lose well under 1 %). The
   * compressor then keeps up with the rows being made instead of being the one thread everybody
   * waits for. Pieces go out in order, waiting for the output to drain: memory stays at a few chunks.
   */
  openEntry(name: string): ZipEntryWriter {
    this.claim();
    const entry = this.begin(name, FLAG_UTF8_NAME | FLAG_DATA_DESCRIPTOR, 0, 0, 0);
    const pending: Promise<Buffer>[] = [];
    let headerWritten = false;
    // a big output buffer: one callback per piece instead of one per 16 KiB
    const options = { level: this.level, finishFlush: zlib.constants.Z_SYNC_FLUSH, chunkSize: 256 * 1024 };

    const start = async () => {
      if (!headerWritten) {
        headerWritten = true;
        await this.push(this.localHeader(entry));
      }
    };
    const sendOldest = async () => {
      const piece = await pending.shift()!;
      entry.compressed += piece.length;
      await this.push(piece);
    };

    return {
      write: async (chunk) => {
        await start();
        const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        if (data.length === 0) return;
        entry.crc = crc32(data, entry.crc);
        entry.size += data.length;
        if (entry.size > MAX_U32) throw new Error(`zip entry ${name} exceeds 4 GiB`);
        const piece = deflateRaw(data, options);
        // a piece that fails is reported when its turn comes, not as an unhandled rejection
        piece.catch(() => {});
        pending.push(piece);
        if (pending.length >= PIECES_IN_FLIGHT) await sendOldest();
      },
      close: async () => {
        await start();
        while (pending.length > 0) await sendOldest();
        // the final block (empty) that ends the deflate stream
        const last = zlib.deflateRawSync(Buffer.alloc(0), { level: this.level });
        entry.compressed += last.length;
        await this.push(last);
        this.checkSize(entry);
        const descriptor = Buffer.alloc(16);
        descriptor.writeUInt32LE(SIG_DATA_DESCRIPTOR, 0);
        descriptor.writeUInt32LE(entry.crc, 4);
        descriptor.writeUInt32LE(entry.compressed, 8);
        descriptor.writeUInt32LE(entry.size, 12);
        await this.push(descriptor);
        this.busy = false;
      },
    };
  }

  /** Writes the central directory, ends the output and waits until it has taken everything. */
  async finish(): Promise<void> {
    this.claim();
    if (this.entries.length > MAX_ENTRIES) throw new Error('too many zip entries');
    const start = this.offset;
    for (const e of this.entries) {
      const h = Buffer.alloc(46);
      h.writeUInt32LE(SIG_CENTRAL_HEADER, 0);
      h.writeUInt16LE(VERSION_NEEDED, 4);
      h.writeUInt16LE(VERSION_NEEDED, 6);
      h.writeUInt16LE(e.flags, 8);
      h.writeUInt16LE(METHOD_DEFLATE, 10);
      h.writeUInt16LE(this.time, 12);
      h.writeUInt16LE(this.date, 14);
      h.writeUInt32LE(e.crc, 16);
      h.writeUInt32LE(e.compressed, 20);
      h.writeUInt32LE(e.size, 24);
      h.writeUInt16LE(e.name.length, 28);
      h.writeUInt32LE(e.offset, 42);
      await this.push(Buffer.concat([h, e.name]));
    }
    const size = this.offset - start;
    if (this.offset > MAX_U32) throw new Error('zip file exceeds 4 GiB');
    const end = Buffer.alloc(22);
    end.writeUInt32LE(SIG_END_OF_CENTRAL_DIR, 0);
    end.writeUInt16LE(this.entries.length, 8);
    end.writeUInt16LE(this.entries.length, 10);
    end.writeUInt32LE(size, 12);
    end.writeUInt32LE(start, 16);
    await this.push(end);
    await this.out.end();
  }

  private claim(): void {
    if (this.busy) throw new Error('zip writer: the previous entry is still open');
    this.busy = true;
  }

  private begin(name: string, flags: number, crc: number, compressed: number, size: number): CentralEntry {
    if (this.offset > MAX_U32) throw new Error('zip file exceeds 4 GiB');
    const entry = { name: Buffer.from(name, 'utf8'), flags, crc, compressed, size, offset: this.offset };
    this.entries.push(entry);
    return entry;
  }

  private checkSize(entry: CentralEntry): void {
    if (entry.size > MAX_U32 || entry.compressed > MAX_U32) {
      throw new Error(`zip entry ${entry.name.toString('utf8')} exceeds 4 GiB`);
    }
  }

  private localHeader(e: CentralEntry): Buffer {
    const h = Buffer.alloc(30);
    h.writeUInt32LE(SIG_LOCAL_HEADER, 0);
    h.writeUInt16LE(VERSION_NEEDED, 4);
    h.writeUInt16LE(e.flags, 6);
    h.writeUInt16LE(METHOD_DEFLATE, 8);
    h.writeUInt16LE(this.time, 10);
    h.writeUInt16LE(this.date, 12);
    // with a data descriptor these stay zero here and come after the data
    h.writeUInt32LE(e.crc, 14);
    h.writeUInt32LE(e.compressed, 18);
    h.writeUInt32LE(e.size, 22);
    h.writeUInt16LE(e.name.length, 26);
    return Buffer.concat([h, e.name]);
  }

  private async push(buf: Buffer): Promise<void> {
    this.offset += buf.length;
    await this.out.write(buf);
  }
}
