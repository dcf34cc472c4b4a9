// Runs async tasks with at most N in flight, keeping tasks that share a key in submission order.
// The key is the record: a key change is a DELETE then a POST of the same natural key, and running
// them the other way round would delete the record just written.
//
// A task that throws (rather than returning a failed result) means something is wrong with the run
// as a whole, such as the credentials; the pool then starts nothing more and rejects what is queued.

export interface PoolTask<T> {
  /** Tasks with the same key run one after another, in the order submitted. */
  key?: string;
  run: () => Promise<T>;
}

/** Given to queued tasks that were never started because an earlier task threw. */
export class PoolStoppedError extends Error {
  override readonly name = 'PoolStoppedError';
  constructor(readonly reason: unknown) {
    super(`not run: an earlier task failed (${reason instanceof Error ? reason.message : String(reason)})`);
  }
}

interface Entry<T> {
  key: string | undefined;
  run: () => Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

export class TaskPool<T> {
  readonly #concurrency: number;
  /** Tasks free to start, oldest first. */
  readonly #ready: Entry<T>[] = [];
  /** Per key with a task queued or running: the tasks of that key waiting for it, in order. */
  readonly #waitingByKey = new Map<string, Entry<T>[]>();
  #running = 0;
  #pending = 0;
  #failure: { reason: unknown } | undefined;
  #idleWaiters: Array<() => void> = [];
  #roomWaiters: Array<{ below: number; wake: () => void }> = [];

  constructor(concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a whole number of at least 1');
    this.#concurrency = concurrency;
  }

  /** Tasks running right now. */
  get running(): number {
    return this.#running;
  }

  /** Tasks submitted and not yet settled. */
  get pending(): number {
    return this.#pending;
  }

  submit(task: PoolTask<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#failure) {
        reject(new PoolStoppedError(this.#failure.reason));
        return;
      }
      const entry: Entry<T> = { key: task.key, run: task.run, resolve, reject };
      this.#pending++;
      if (entry.key === undefined) {
        this.#ready.push(entry);
      } else {
        const waiting = this.#waitingByKey.get(entry.key);
        if (waiting) {
          waiting.push(entry);
        } else {
          this.#waitingByKey.set(entry.key, []);
          this.#ready.push(entry);
        }
      }
      this.#pump();
    });
  }

  /** Resolves when every submitted task has settled. */
  onIdle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Resolves once fewer than `below` tasks are pending: a producer reading operations from disk waits here, so the
   * queue (and memory) stays bounded however long the plan.
   */
  whenBelow(below: number): Promise<void> {
    if (this.#pending < below) return Promise.resolve();
    return new Promise((wake) => this.#roomWaiters.push({ below, wake }));
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#ready.length > 0) {
      const entry = this.#ready.shift() as Entry<T>;
      this.#start(entry);
    }
  }

  #start(entry: Entry<T>): void {
    this.#running++;
    let settled: Promise<T>;
    try {
      settled = Promise.resolve(entry.run());
    } catch (err) {
      settled = Promise.reject(err);
    }
    settled.then(
      (value) => this.#finish(entry, () => entry.resolve(value)),
      (reason: unknown) => {
        this.#failure ??= { reason };
        this.#finish(entry, () => entry.reject(reason));
      },
    );
  }

  #finish(entry: Entry<T>, settle: () => void): void {
    this.#running--;
    this.#pending--;
    settle();
    if (entry.key !== undefined) {
      const waiting = this.#waitingByKey.get(entry.key) ?? [];
      const next = waiting.shift();
      if (next) this.#ready.push(next);
      else this.#waitingByKey.delete(entry.key);
    }
    if (this.#failure) this.#rejectQueued(this.#failure.reason);
    this.#pump();
    if (this.#roomWaiters.length > 0) {
      const waiting = this.#roomWaiters;
      this.#roomWaiters = waiting.filter((w) => this.#pending >= w.below);
      for (const w of waiting) if (this.#pending < w.below) w.wake();
    }
    if (this.#pending === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  #rejectQueued(reason: unknown): void {
    const queued = [...this.#ready, ...[...this.#waitingByKey.values()].flat()];
    this.#ready.length = 0;
    this.#waitingByKey.clear();
    for (const entry of queued) {
      this.#pending--;
      entry.reject(new PoolStoppedError(reason));
    }
  }
}

/**
 * Run every task with at most `concurrency` at once; results come back in submission order.
 * If a task throws, nothing more is started and, once the running tasks settle, the first error is thrown.
 */
export async function runPool<T>(tasks: ReadonlyArray<PoolTask<T>>, concurrency: number): Promise<T[]> {
  const pool = new TaskPool<T>(concurrency);
  const settled = await Promise.allSettled(tasks.map((task) => pool.submit(task)));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected' && !(s.reason instanceof PoolStoppedError));
  if (failure) throw failure.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}
