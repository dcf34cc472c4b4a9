// The bounded pool the emitter sends operations through.

import { expect } from 'chai';
import { PoolStoppedError, runPool, TaskPool, type PoolTask } from '../src/emit/pool.js';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('runPool', () => {
  it('never runs more than `concurrency` tasks at once, and uses all of them', async () => {
    let inFlight = 0;
    let most = 0;
    const tasks: Array<PoolTask<number>> = Array.from({ length: 20 }, (_, i) => ({
      run: async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await pause(5 + (i % 3) * 3);
        inFlight--;
        return i;
      },
    }));
    const results = await runPool(tasks, 3);
    expect(most).to.equal(3);
    expect(results).to.deep.equal(Array.from({ length: 20 }, (_, i) => i));
  });

  it('runs tasks sharing a key in submission order, one at a time', async () => {
    const log: string[] = [];
    const step = (key: string, label: string, ms: number): PoolTask<string> => ({
      key,
      run: async () => {
        log.push(`start ${key} ${label}`);
        await pause(ms);
        log.push(`end ${key} ${label}`);
        return `${key} ${label}`;
      },
    });
    // Unordered, the quick POST of record A would finish before its slow DELETE.
    const results = await runPool([step('A', 'DELETE', 30), step('B', 'POST', 5), step('A', 'POST', 1), step('C', 'PUT', 1)], 4);
    expect(results).to.deep.equal(['A DELETE', 'B POST', 'A POST', 'C PUT']);
    expect(log.indexOf('start A POST')).to.be.greaterThan(log.indexOf('end A DELETE'));
    // Other keys did not wait for record A.
    expect(log.indexOf('end B POST')).to.be.lessThan(log.indexOf('end A DELETE'));
    expect(log.indexOf('end C PUT')).to.be.lessThan(log.indexOf('end A DELETE'));
  });

  it('keeps per-key order under a small bound with many keys', async () => {
    const seen = new Map<string, number[]>();
    const tasks: Array<PoolTask<void>> = [];
    for (let i = 0; i < 60; i++) {
      const key = `k${i % 7}`;
      tasks.push({
        key,
        run: async () => {
          await pause((i * 7) % 5);
          seen.set(key, [...(seen.get(key) ?? []), i]);
        },
      });
    }
    await runPool(tasks, 2);
    for (const [key, order] of seen) {
      expect(order, key).to.deep.equal([...order].sort((a, b) => a - b));
    }
    expect([...seen.values()].flat()).to.have.length(60);
  });

  it('stops starting tasks after one throws, and throws that error', async () => {
    const started: number[] = [];
    const tasks: Array<PoolTask<number>> = Array.from({ length: 10 }, (_, i) => ({
      run: async () => {
        started.push(i);
        // Task 1 fails while task 0 is still running, so no third task can have taken a free slot.
        await pause(i === 0 ? 30 : 5);
        if (i === 1) throw new Error('credentials rejected');
        return i;
      },
    }));
    const err = await runPool(tasks, 2).catch((e: unknown) => e);
    expect((err as Error).message).to.equal('credentials rejected');
    expect(started).to.deep.equal([0, 1]);
  });

  it('rejects a zero or fractional bound', () => {
    expect(() => new TaskPool(0)).to.throw(RangeError);
    expect(() => new TaskPool(1.5)).to.throw(RangeError);
  });
});

describe('TaskPool', () => {
  it('accepts tasks as they come and reports when idle', async () => {
    const pool = new TaskPool<number>(2);
    const first = pool.submit({ key: 'x', run: async () => (await pause(10), 1) });
    const second = pool.submit({ key: 'x', run: async () => 2 });
    expect(pool.running).to.equal(1);
    expect(pool.pending).to.equal(2);
    await pool.onIdle();
    expect(await first).to.equal(1);
    expect(await second).to.equal(2);
    expect(pool.pending).to.equal(0);
  });

  it('rejects queued and later tasks with PoolStoppedError after a failure', async () => {
    const pool = new TaskPool<number>(1);
    const failing = pool.submit({ run: async () => Promise.reject(new Error('boom')) });
    const queued = pool.submit({ run: async () => 2 });
    await failing.catch(() => undefined);
    const err = await queued.catch((e: unknown) => e);
    expect(err).to.be.instanceOf(PoolStoppedError);
    const later = await pool.submit({ run: async () => 3 }).catch((e: unknown) => e);
    expect(later).to.be.instanceOf(PoolStoppedError);
    await pool.onIdle();
  });
});
