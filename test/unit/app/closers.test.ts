/** The stack of closers every job assembles with: reverse order, each once, every one run even when one fails. */
import { describe, expect, it } from 'vitest';
import { Closers } from '../../../src/app/closers.js';

function resource(name: string, log: string[], opts: { failClose?: boolean; hangClose?: boolean } = {}) {
  return {
    close: async () => {
      log.push(`close ${name}`);
      if (opts.hangClose) await new Promise(() => {});
      if (opts.failClose) throw new Error(`${name} close failed`);
    },
    destroy: async () => void log.push(`destroy ${name}`),
  };
}

describe('Closers', () => {
  it('closes in the reverse order of opening, each resource once however often close() is called', async () => {
    const log: string[] = [];
    const c = new Closers();
    c.add('a', resource('a', log));
    c.add('b', resource('b', log));
    c.defer('c', async () => void log.push('close c'));
    await Promise.all([c.close(), c.close()]);
    await c.close();
    expect(log).toEqual(['close c', 'close b', 'close a']);
  });

  it('runs every closer when one fails, then throws the first failure', async () => {
    const log: string[] = [];
    const c = new Closers();
    c.add('a', resource('a', log));
    c.add('b', resource('b', log, { failClose: true }));
    c.add('x', resource('x', log, { failClose: true }));
    await expect(c.close()).rejects.toThrow('x close failed');
    expect(log).toEqual(['close x', 'close b', 'close a']);
  });

  it('destroy aborts in reverse order, also while a close hangs (what the worker does after a drain timed out)', async () => {
    const log: string[] = [];
    const c = new Closers();
    c.add('a', resource('a', log));
    c.add('b', resource('b', log, { hangClose: true }));
    void c.close(); // hangs in b
    await new Promise((r) => setTimeout(r, 10));
    await c.destroy(new Error('timeout'));
    expect(log).toEqual(['close b', 'destroy b', 'destroy a']);
  });

  it('a resource without destroy is closed by destroy; await using closes', async () => {
    const log: string[] = [];
    {
      await using c = new Closers();
      c.defer('only', async () => void log.push('close only'));
    }
    expect(log).toEqual(['close only']);
    const d = new Closers();
    d.defer('plain', async () => void log.push('close plain'));
    await d.destroy();
    expect(log).toEqual(['close only', 'close plain']);
  });

  it('refuses a resource opened after the close began (it would never be closed)', async () => {
    const c = new Closers();
    await c.close();
    expect(() => c.add('late', { close: async () => {} })).toThrow(/opened after the close began/);
  });
});
