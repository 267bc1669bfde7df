/**
 * lines(): the lines of a command's stdout, stderr or both, read as readline reads a child's
 * stdout, and at least as fast.
 *
 * - Each source's chunks ('data' events) are decoded (UTF-8, a character split across chunks
 *   kept whole) and split into lines at once, synchronously, into one array per chunk, by the
 *   splitter runRegex() uses too (split.ts, readline's rule for the last line); one iterator
 *   hands them out. No async generator per stream or per line.
 * - Backpressure: while two chunks' lines wait for the loop, the sources are paused (the pipe
 *   fills and the child blocks in write()); taking a batch resumes them.
 * - The event loop is never held for long: a loop that keeps finding lines ready (a fast
 *   consumer behind a fast child) gives the event loop a turn (setImmediate) once a turn's
 *   budget is used (turn-budget.ts, as runRegex()), so timers and other I/O are served while a
 *   big output streams.
 * - Ends as readline's loop ends when the child is killed: a source that closes without its
 *   'end' (abort(), free(), the next run destroy the streams) ends the loop normally, after the
 *   lines already read; the reason is on wait(). Only a real stream error is thrown into the loop.
 * - A break (or return()) destroys the sources at once, as a break out of a Readable's loop does,
 *   whatever the other source is doing.
 */
import type { Readable } from 'node:stream';
import type { CommandState } from '../plan';
import { OPTION_NAMES } from '../types';
import type { LinesOptions } from '../types-streams';
import { arg, checkOptions, typeError } from '../validate';
import { TextSplitter } from './split';
import { streamsOf } from './streams';
import { TurnBudget } from './turn-budget';

// Batches (one per chunk) waiting for the loop before the sources are paused.
const PAUSE_AT = 2;

// The lines of several sources, in the order their chunks come. Sources are read from the
// first next() on, so lines() that is never iterated does not start reading.
class LineQueue {
  private readonly batches: string[][] = [];
  private open: number;
  private error: unknown = null;
  private wake: (() => void) | null = null;
  private readonly detach: (() => void)[] = [];

  constructor(private readonly sources: Readable[]) {
    this.open = sources.length;
    for (const s of sources) this.attach(s);
  }

  private attach(src: Readable): void {
    if (src.destroyed || src.readableEnded) {
      this.open--;
      return;
    }
    const splitter = new TextSplitter('\n', 'nonEmpty');
    let ended = false;
    const onData = (chunk: Buffer | string): void => {
      splitter.push(chunk);
      const lines = splitter.all();
      if (lines.length > 0) this.push(lines);
    };
    const onDone = (): void => {
      if (ended) return;
      ended = true;
      // The text after the last '\n' is a line when not empty (readline's rule); also when the
      // stream was destroyed: those bytes were written by the child all the same.
      splitter.end();
      const rest = splitter.all();
      if (rest.length > 0) this.push(rest);
      this.open--;
      this.signal();
    };
    const onError = (err: Error): void => {
      this.error ??= err;
      onDone();
    };
    src.on('data', onData);
    src.on('end', onDone);
    src.on('close', onDone);
    src.on('error', onError);
    this.detach.push(() => {
      src.off('data', onData);
      src.off('end', onDone);
      src.off('close', onDone);
      src.off('error', onError);
    });
  }

  private push(lines: string[]): void {
    this.batches.push(lines);
    if (this.batches.length >= PAUSE_AT) for (const s of this.sources) s.pause();
    this.signal();
  }

  private signal(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /**
   * The next batch of lines, taken now: null once every source is done and all was taken (a
   * source's error is thrown then), undefined when the loop must wait (ready()).
   */
  takeNow(): string[] | null | undefined {
    const b = this.batches.shift();
    if (b !== undefined) {
      if (this.batches.length < PAUSE_AT && this.open > 0) for (const s of this.sources) if (!s.destroyed) s.resume();
      return b;
    }
    if (this.open > 0) return undefined;
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the stream's own error, as it came
    if (this.error !== null) throw this.error;
    return null;
  }

  /** Resolves when lines came or a source is done. */
  ready(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  /** The loop is over: stop listening and destroy the sources (their fds are closed). */
  close(): void {
    for (const d of this.detach) d();
    for (const s of this.sources) s.destroy();
  }
}

const DONE: Promise<IteratorResult<string, undefined>> = Promise.resolve({ value: undefined, done: true });

/**
 * The lines of `sources` (one or more Readables), without their '\n', as an async generator
 * object. Written by hand rather than as an `async function*`: a generator's yield costs two to
 * three times the promise that next() returns here, which is most of the cost per line.
 */
class LineIterator implements AsyncGenerator<string, undefined, unknown> {
  private queue: LineQueue | null = null; // made on the first next(): lines() alone reads nothing
  private batch: string[] = [];
  private at = 0;
  private closed = false;
  // A wait for data or for an event-loop turn in progress; a next() meanwhile comes after it.
  private waiting: Promise<void> | null = null;
  // This loop's (and its consumer's) time in the current turn. Waiting for data is not a turn:
  // libuv reads up to 32 chunks in one poll callback, and the lines of each are consumed in its
  // microtasks, so only setImmediate() (giveTurn) starts a new one.
  private budget: TurnBudget | null = null;

  constructor(private readonly sources: Readable[]) {}

  next(): Promise<IteratorResult<string, undefined>> {
    if (this.waiting) return this.waiting.then(() => this.next());
    if (this.closed) return DONE;
    if (this.queue === null) {
      this.queue = new LineQueue(this.sources);
      this.budget = new TurnBudget();
    }
    if (this.at < this.batch.length) {
      const value = this.batch[this.at++];
      if ((this.budget as TurnBudget).spent()) return this.giveTurn().then(() => ({ value, done: false }));
      return Promise.resolve({ value, done: false });
    }
    let b: string[] | null | undefined;
    try {
      b = this.queue.takeNow();
    } catch (err) {
      this.finish();
      return Promise.reject(err);
    }
    if (b === null) {
      this.finish();
      return DONE;
    }
    if (b === undefined) {
      this.waiting = this.queue.ready().then(() => {
        this.waiting = null;
      });
      return this.waiting.then(() => this.next());
    }
    this.batch = b;
    this.at = 0;
    return this.next();
  }

  /** A break: the sources are destroyed at once (their fds closed), as after a Readable's loop. */
  return(): Promise<IteratorResult<string, undefined>> {
    this.finish();
    return DONE;
  }

  throw(err: unknown): Promise<IteratorResult<string, undefined>> {
    this.finish();
    return Promise.reject(err);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.finish();
  }

  private giveTurn(): Promise<void> {
    this.waiting = (this.budget as TurnBudget).yieldTurn().then(() => {
      this.waiting = null;
    });
    return this.waiting;
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.batch = [];
    this.queue?.close();
  }
}

/** Yields the lines of `sources` (one or more Readables), without their '\n'. */
export function readLines(sources: Readable[]): AsyncGenerator<string> {
  return new LineIterator(sources);
}

/** cmd.lines(options): the lines of the command's stdout, stderr or both ('all'), checked at once. */
export function lines(state: CommandState, method: string, options: unknown, onMisuse: (why: string) => Error): AsyncGenerator<string> {
  const o = checkOptions<LinesOptions>(method, options, OPTION_NAMES.lines);
  const which = o.stream ?? 'stdout';
  if (which !== 'stdout' && which !== 'stderr' && which !== 'all') {
    throw typeError(method, arg('options.stream'), "'stdout', 'stderr' or 'all'", which);
  }
  const s = streamsOf(state);
  const wanted = which === 'all' ? [s.stdout, s.stderr] : [s[which]];
  const sources = wanted.filter((x): x is Readable => x !== null);
  if (sources.length === 0 || (which !== 'all' && sources.length !== 1)) {
    const what = which === 'all' ? 'neither stdout nor stderr is a pipe' : `${which} is not a pipe`;
    throw onMisuse(`lines(): ${what}: ask runAsync({ ${which === 'stderr' ? 'stderr' : 'stdout'}: 'pipe' })`);
  }
  return readLines(sources);
}
