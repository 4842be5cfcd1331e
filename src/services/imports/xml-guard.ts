/**
 * Bounds what one XML part of an uploaded workbook can make exceljs hold, before exceljs reads it.
 *
 * exceljs (through saxes) gathers each text, tag, comment and processing instruction into one
 * string, and appends every text it meets to the value it is reading until the next value starts.
 * A 3 MB upload within the ZIP limits can hold one text of 450 million characters, which took
 * 3.3 GB to read. The guard passes the part's bytes through a small state machine that:
 *
 * - keeps the first TEXT_KEPT characters of each value and drops the rest, up to the next value.
 *   A value is what exceljs gathers: in a worksheet, the text from a start tag c, f, v, is or t to
 *   the next one; in the shared strings, a whole <si> (rich-text runs and all). A cut text is
 *   still longer than the 32,767 characters Excel allows, so its row is refused for an overlong
 *   cell, as it would be uncut;
 * - empties CDATA sections (exceljs reads none; saxes would gather them);
 * - refuses a tag, comment, processing instruction or declaration longer than MARKUP_MAX, which
 *   no spreadsheet program writes.
 *
 * It never cuts within a character or an entity, and what it passes on depends on the bytes alone,
 * not on how they are chunked: the inspection runs it to learn each part's size once guarded (the
 * ZIP handed to exceljs declares sizes up front), and the reader runs it again to produce them.
 */
import { FileRejectedError } from './import-errors.ts';

/**
 * Characters of one value passed on to exceljs. Twice Excel's own limit of 32,767: characters
 * counted here that exceljs leaves out of the value (indentation between tags, the CR of CRLF line
 * ends) can never cut a text Excel could hold.
 */
export const TEXT_KEPT = 65_536;
/** the longest tag, comment or processing instruction passed on (bytes) */
export const MARKUP_MAX = 1024 * 1024;
/** `&#x0010FFFF;` and the like: past this an "entity" is read as text */
const MAX_ENTITY = 12;

/** Which start tags begin a new value: the shared strings part gathers a whole <si>. */
export type XmlGuardMode = 'worksheet' | 'sharedStrings';

const LT = 0x3c;
const GT = 0x3e;
const AMP = 0x26;
const SEMI = 0x3b;
const BANG = 0x21;
const QUESTION = 0x3f;
const SLASH = 0x2f;
const COLON = 0x3a;
const DASH = 0x2d;
const QUOT = 0x22;
const APOS = 0x27;
const RBRACKET = 0x5d;
const CDATA_OPENER = Buffer.from('[CDATA[');
const CDATA_END = Buffer.from(']]>');

// where the machine is
const TEXT = 0;
/** after `<` */
const OPEN = 1;
const TAG = 2;
const QUOTED = 3;
/** after `<!` */
const BANG_OPEN = 4;
/** after `<!-` */
const BANG_DASH = 5;
/** within `<![CDATA[` */
const CDATA_OPEN = 6;
const CDATA = 7;
const COMMENT = 8;
const PI = 9;
/** `<!DOCTYPE …>` and any other `<!…>` */
const DECL = 10;

/** A tag's local name, up to two bytes, as a number (three or more bytes: -1). */
const code = (name: string) => [...Buffer.from(name)].reduce((n, b) => n * 256 + b, 0);
const VALUE_STARTS: Record<XmlGuardMode, Set<number>> = {
  worksheet: new Set(['c', 'f', 'v', 't', 'is'].map(code)),
  sharedStrings: new Set([code('si')]),
};

export class XmlGuard {
  /** where the machine is, between chunks (within one, `write` keeps it all in locals) */
  private state = TEXT;
  /** characters of the current value passed on */
  private kept = 0;
  /** the current value is past TEXT_KEPT: its text is dropped until the next value */
  private cutting = false;
  /** whether the last character (or entity) was passed on: its other bytes follow it */
  private lastKept = true;
  /** bytes of the entity being read; 0 outside one */
  private entity = 0;
  /** bytes of the markup being read */
  private markup = 0;
  private quote = 0;
  private endTag = false;
  /** the tag's local name so far (see `code`) */
  private name = 0;
  private nameDone = false;
  /** dashes, brackets, a question mark or bytes of the CDATA opener, by state */
  private run = 0;
  private readonly valueStarts: Set<number>;
  /** values cut so far */
  cuts = 0;

  constructor(
    /** the part's name, for the error */
    private readonly part: string,
    mode: XmlGuardMode = 'worksheet',
  ) {
    this.valueStarts = VALUE_STARTS[mode];
  }

  /** The bytes of `chunk` to pass on, in order: slices of it, and the end of an emptied CDATA. */
  write(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    const n = chunk.length;
    let { state, kept, cutting, lastKept, entity, markup, quote, endTag, name, nameDone, run } = this;
    /** start of the bytes passed on and not yet in `out` */
    let from = 0;
    let i = 0;
    while (i < n) {
      const b = chunk[i]!;
      if (state === TEXT) {
        if (b === LT) {
          entity = 0;
          state = OPEN;
          markup = 1;
          i++;
          continue;
        }
        if (cutting) {
          // everything up to the next tag goes: one search instead of a loop
          const lt = chunk.indexOf(LT, i);
          const end = lt === -1 ? n : lt;
          if (i > from) out.push(chunk.subarray(from, i));
          from = end;
          i = end;
          continue;
        }
        if (entity === 0) {
          // the usual text, ASCII outside entities, counted in a tight loop
          const stop = Math.min(n, i + TEXT_KEPT - kept);
          let j = i;
          while (j < stop) {
            const c = chunk[j]!;
            if (c === LT || c === AMP || c >= 0x80) break;
            j++;
          }
          if (j > i) {
            kept += j - i;
            lastKept = true;
            i = j;
            continue;
          }
        }
        let keep: boolean;
        if (entity > 0) {
          keep = lastKept;
          entity = b === SEMI || entity >= MAX_ENTITY ? 0 : entity + 1;
        } else if ((b & 0xc0) === 0x80) {
          // a UTF-8 continuation byte goes where its first byte went
          keep = lastKept;
        } else {
          keep = kept < TEXT_KEPT;
          if (keep) kept++;
          else {
            cutting = true;
            this.cuts++;
          }
          lastKept = keep;
          if (b === AMP) entity = 1;
        }
        if (!keep) {
          if (i > from) out.push(chunk.subarray(from, i));
          from = i + 1;
        }
        i++;
        continue;
      }

      if (state === CDATA) {
        // its content goes, up to the ]]> that ends it
        if (i > from) out.push(chunk.subarray(from, i));
        from = i + 1;
        if (b === RBRACKET) run++;
        else {
          if (b === GT && run >= 2) {
            out.push(CDATA_END);
            state = TEXT;
          }
          run = 0;
        }
        i++;
        continue;
      }

      // markup: passed on whole, within MARKUP_MAX
      let j = i + 1;
      switch (state) {
        case TAG:
          if (b === GT) {
            state = TEXT;
            if (!endTag && this.valueStarts.has(name)) {
              kept = 0;
              cutting = false;
            }
          } else if (b === QUOT || b === APOS) {
            quote = b;
            state = QUOTED;
            nameDone = true;
          } else if (nameDone) {
            // attributes: nothing matters but quotes and the end
            while (j < n) {
              const c = chunk[j]!;
              if (c === GT || c === QUOT || c === APOS) break;
              j++;
            }
          } else if (b === COLON) {
            // a prefix: the local name follows
            name = 0;
          } else if (b <= 0x20 || b === SLASH) {
            nameDone = true;
          } else {
            name = name >= 256 || name < 0 ? -1 : name * 256 + b;
          }
          break;
        case QUOTED:
          j = i;
          while (j < n && chunk[j] !== quote) j++;
          if (j < n) {
            state = TAG;
            j++;
          }
          break;
        case OPEN:
          if (b === BANG) state = BANG_OPEN;
          else if (b === QUESTION) {
            state = PI;
            run = 0;
          } else {
            state = TAG;
            endTag = b === SLASH;
            name = endTag || b === GT ? 0 : b;
            nameDone = b === GT;
            if (b === GT) state = TEXT;
          }
          break;
        case BANG_OPEN:
          if (b === DASH) state = BANG_DASH;
          else if (b === CDATA_OPENER[0]) {
            state = CDATA_OPEN;
            run = 1;
          } else state = b === GT ? TEXT : DECL;
          break;
        case BANG_DASH:
          if (b === DASH) {
            state = COMMENT;
            run = 0;
          } else state = b === GT ? TEXT : DECL;
          break;
        case CDATA_OPEN:
          if (b !== CDATA_OPENER[run]) state = b === GT ? TEXT : DECL;
          else if (++run === CDATA_OPENER.length) {
            state = CDATA;
            run = 0;
          }
          break;
        case COMMENT:
          if (b === DASH) run++;
          else {
            if (b === GT && run >= 2) state = TEXT;
            run = 0;
          }
          break;
        case PI:
          if (b === GT && run === 1) state = TEXT;
          run = b === QUESTION ? 1 : 0;
          break;
        default:
          if (b === GT) state = TEXT;
      }
      markup += j - i;
      if (markup > MARKUP_MAX) throw this.tooLong();
      i = j;
    }
    Object.assign(this, {
      state,
      kept,
      cutting,
      lastKept,
      entity,
      markup,
      quote,
      endTag,
      name,
      nameDone,
      run,
    });
    if (n > from) out.push(from === 0 ? chunk : chunk.subarray(from));
    return out;
  }

  /** How many bytes `write(chunk)` passes on. */
  measure(chunk: Buffer): number {
    let bytes = 0;
    for (const piece of this.write(chunk)) bytes += piece.length;
    return bytes;
  }

  private tooLong(): FileRejectedError {
    return new FileRejectedError(
      `The workbook cannot be read: its part ${this.part} holds an XML tag or comment longer than ` +
        `${MARKUP_MAX / 1024 / 1024} MB, which no spreadsheet program writes. Open the file in Excel, ` +
        'save it again as "Excel Workbook (.xlsx)" and upload that file.',
      'unreadable-sheet',
      { part: this.part },
    );
  }
}
