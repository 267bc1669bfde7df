/**
 * Resumable record splitters for runRegex()/runNul() (run/consume.ts drives them) and lines()
 * (run/lines.ts): a chunk is pushed, then next() hands out its complete records one at a time,
 * so the driver can stop or yield to the event loop between any two records of one chunk, or
 * all() takes them at once (lines() queues a chunk's lines as one batch). Synchronous on
 * purpose: an async generator per record costs a promise and a microtask per line.
 *
 * How the last bytes count (`keepLast`): 'always' is g_strsplit's rule (libvirt's RunRegex:
 * "a\n" is "a" and "", empty input has no record); 'nonEmpty' is getdelim's (RunNul: text after
 * the last delimiter is a record when there is any).
 */
import { StringDecoder } from 'node:string_decoder';

export type KeepLast = 'always' | 'nonEmpty';

export interface Splitter<T> {
  /** Takes the next chunk; call it only once next() has returned undefined. */
  push(chunk: Buffer): void;
  /** Marks the end of the input: next() then gives the last record, if any. */
  end(): void;
  /** The next complete record, or undefined when more input (or end()) is needed. */
  next(): T | undefined;
}

/**
 * Records as strings. Each chunk is decoded once (a StringDecoder keeps a UTF-8 sequence cut
 * at a chunk's end for the next one) and split with String#indexOf: the delimiter is ASCII, so
 * this is the same as splitting the bytes and decoding each record.
 */
export class TextSplitter implements Splitter<string> {
  private readonly decoder = new StringDecoder('utf8');
  private text = '';
  private pos = 0;
  private partial = '';
  private sawAny = false;
  private ended = false;
  private lastDone = false;

  constructor(
    private readonly delim: string,
    private readonly keepLast: KeepLast,
  ) {}

  /** A chunk of bytes, or of text already decoded (a stream the caller gave an encoding). */
  push(chunk: Buffer | string): void {
    if (chunk.length === 0) return;
    this.sawAny = true;
    this.text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    this.pos = 0;
  }

  end(): void {
    this.ended = true;
    this.text = this.decoder.end();
    this.pos = 0;
  }

  /**
   * Every record next() would give now, as one array: one split of the chunk's text (faster
   * than a search per record when the driver does not need to stop between records).
   */
  all(): string[] {
    const text = this.pos === 0 ? this.text : this.text.slice(this.pos);
    this.text = '';
    this.pos = 0;
    const recs = text.split(this.delim);
    if (this.partial !== '') recs[0] = this.partial + recs[0];
    this.partial = recs.pop() as string;
    if (this.ended && !this.lastDone) {
      this.lastDone = true;
      const last = this.partial;
      this.partial = '';
      if (last !== '' || (this.keepLast === 'always' && this.sawAny)) recs.push(last);
    }
    return recs;
  }

  next(): string | undefined {
    const i = this.text.indexOf(this.delim, this.pos);
    if (i !== -1) {
      let rec = this.text.slice(this.pos, i);
      this.pos = i + 1;
      if (this.partial !== '') {
        rec = this.partial + rec;
        this.partial = '';
      }
      return rec;
    }
    if (this.pos < this.text.length) this.partial += this.text.slice(this.pos);
    this.text = '';
    this.pos = 0;
    if (!this.ended || this.lastDone) return undefined;
    this.lastDone = true;
    const last = this.partial;
    this.partial = '';
    return last !== '' || (this.keepLast === 'always' && this.sawAny) ? last : undefined;
  }
}

// V8 makes a substring of 13 characters or more a view into its parent string (a "sliced
// string"), which keeps the parent alive: a record or group taken from a decoded chunk would
// keep that whole chunk (64 KiB) for as long as the caller keeps it.
const SLICED_MIN = 13;

/**
 * `s` as a string of its own, not a view into the decoded chunk it came from: what is handed to
 * a caller that may keep it. Shorter strings are copies already; a longer one is copied by
 * flattening a concatenation (V8 flattens a cons string into a new flat string before slicing).
 */
export function detached(s: string): string {
  return s.length < SLICED_MIN ? s : ` ${s}`.slice(1);
}

/** Records as Buffers of their own (copies: a record never keeps a whole chunk alive). */
export class BytesSplitter implements Splitter<Buffer> {
  private chunk: Buffer = Buffer.alloc(0);
  private pos = 0;
  private partial: Buffer[] = [];
  private sawAny = false;
  private ended = false;
  private lastDone = false;

  constructor(
    private readonly delim: number,
    private readonly keepLast: KeepLast,
  ) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.sawAny = true;
    this.chunk = chunk;
    this.pos = 0;
  }

  end(): void {
    this.ended = true;
  }

  next(): Buffer | undefined {
    const c = this.chunk;
    const i = c.indexOf(this.delim, this.pos);
    if (i !== -1) {
      const piece = c.subarray(this.pos, i);
      this.pos = i + 1;
      if (this.partial.length === 0) return Buffer.from(piece);
      this.partial.push(piece);
      const rec = Buffer.concat(this.partial);
      this.partial = [];
      return rec;
    }
    // Copied: a subarray would keep the whole chunk alive while the record grows.
    if (this.pos < c.length) this.partial.push(Buffer.from(c.subarray(this.pos)));
    this.chunk = Buffer.alloc(0);
    this.pos = 0;
    if (!this.ended || this.lastDone) return undefined;
    this.lastDone = true;
    const last = Buffer.concat(this.partial);
    this.partial = [];
    return last.length > 0 || (this.keepLast === 'always' && this.sawAny) ? last : undefined;
  }
}
