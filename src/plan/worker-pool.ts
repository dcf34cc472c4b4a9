import { Worker } from 'node:worker_threads';
import type { MappingContext } from '../mapping/functions.js';
import type { Candidate, Decision, JsonObject } from '../types.js';
import type { WorkerRequest, WorkerResponse } from './worker-messages.js';

type Pending = { resolve: (r: WorkerResponse) => void; reject: (e: Error) => void };
type Request = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * Evaluation workers: batches of records go round-robin to threads that each hold the compiled profile.
 * Used for large batches only (a full first run, a rule edit): starting a worker costs more than a few hundred
 * evaluations on the main thread.
 */
export class EvaluationPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private turn = 0;

  constructor(profileFile: string, cwd: string, size: number) {
    this.workers = Array.from({ length: size }, () => {
      const w = new Worker(new URL('./evaluation-worker.js', import.meta.url), { workerData: { profileFile, cwd } });
      w.on('message', (res: WorkerResponse) => {
        const p = this.pending.get(res.id);
        if (!p) return;
        this.pending.delete(res.id);
        if (res.error) p.reject(new Error(`evaluation worker: ${res.error}`));
        else p.resolve(res);
      });
      w.on('error', (err) => {
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
      return w;
    });
  }

  private send(worker: Worker, req: Request): Promise<WorkerResponse> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...req, id });
    });
  }

  private next(): Worker {
    return this.workers[this.turn++ % this.workers.length]!;
  }

  async decide(items: Candidate[]): Promise<Decision[]> {
    return (await this.send(this.next(), { type: 'decide', items })).decisions ?? [];
  }

  /** Every worker learns a connection's mapping context once, before its records are mapped. */
  async setContext(key: string, context: MappingContext): Promise<void> {
    await Promise.all(this.workers.map((w) => this.send(w, { type: 'context', key, context })));
  }

  async map(contextKey: string, items: Array<{ candidate: Candidate; derived: JsonObject }>): Promise<Array<{ body: JsonObject; problems: string[] }>> {
    return (await this.send(this.next(), { type: 'map', contextKey, items })).bodies ?? [];
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
