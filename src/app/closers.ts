/**
 * One stack of the resources a job opened, closed in the reverse order of
 * opening: `close()` drains (each resource finishes what it has in flight),
 * `destroy(err)` aborts. Both are idempotent, run every closer even when one
 * fails (the first failure is thrown after all ran), and a destroy after a
 * close began aborts what is still open. `await using` works too
 * (Symbol.asyncDispose is close).
 */
export interface Closable {
  /** Graceful: finish what is in flight, then release. */
  close(): Promise<void>;
  /** Abrupt: abandon what is in flight, release now (default: close). */
  destroy?(err?: unknown): Promise<void>;
}

interface Entry {
  name: string;
  res: Closable;
  done?: Promise<void>;
}

export class Closers implements AsyncDisposable {
  private readonly stack: Entry[] = [];
  private closing: Promise<void> | undefined;
  private destroying: Promise<void> | undefined;

  /** Registers `res` (returned as is): closed after everything registered later. */
  add<T extends Closable>(name: string, res: T): T {
    if (this.closing || this.destroying) throw new Error(`closers: ${name} opened after the close began`);
    this.stack.push({ name, res });
    return res;
  }

  /** Registers a close-only step (e.g. stopping a worker). */
  defer(name: string, fn: () => Promise<void>): void {
    this.add(name, { close: fn });
  }

  /** Drains every resource, last opened first. */
  close(): Promise<void> {
    this.closing ??= this.run((e) => e.res.close());
    return this.closing;
  }

  /** Aborts every resource not closed yet, last opened first. */
  destroy(err?: unknown): Promise<void> {
    this.destroying ??= this.run((e) => (e.res.destroy ? e.res.destroy(err) : e.res.close()), true);
    return this.destroying;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async run(step: (e: Entry) => Promise<void>, abort = false): Promise<void> {
    let first: unknown;
    for (const e of [...this.stack].reverse()) {
      try {
        // A destroy does not wait for a close in progress (it may hang: that is why we abort).
        if (abort || !e.done) await (abort ? step(e) : (e.done = step(e)));
        else await e.done;
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
  }
}
