// Another process writing to a state file, as a parallel job does. A write transaction of ours must wait for its
// write lock (busy_timeout); one that starts as a reader and then writes cannot wait (SQLite answers SQLITE_BUSY at
// once). The holder takes the lock on demand (`hold(ms)`: held when the promise resolves), or again and again with
// random hold times and gaps (`cycle`), so that it is sometimes held whenever the process under test writes.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { repoRoot } from '../../src/util/repo-root.js';

const SCRIPT = `
import Database from 'better-sqlite3';
import { createInterface } from 'node:readline';
const [file, mode] = [process.argv[1], process.argv[2]];
const db = new Database(file);
db.pragma('busy_timeout = 30000');
db.exec('CREATE TABLE IF NOT EXISTS lock_holder_ticks (n INTEGER)');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const take = () => { db.exec('BEGIN IMMEDIATE'); db.exec('INSERT INTO lock_holder_ticks VALUES (1)'); };
process.stdout.write('ready\\n');
if (mode === 'cycle') {
  for (;;) {
    take();
    await sleep(30 + Math.random() * 170);
    db.exec('COMMIT');
    await sleep(5 + Math.random() * 35);
  }
} else {
  for await (const line of createInterface({ input: process.stdin })) {
    const ms = Number(line.split(' ')[1]);
    take();
    process.stdout.write('held\\n');
    await sleep(ms);
    db.exec('COMMIT');
  }
}
`;

export interface WriteLockHolder {
  /** Takes the write lock for `ms` (on demand mode); resolves once it is held. */
  hold(ms: number): Promise<void>;
  /** Stops the holder (its lock goes with it). */
  stop(): Promise<void>;
}

/** Starts a process that holds the state file's write lock: on demand, or cycling at random. */
export async function writeLockHolder(stateFile: string, mode: 'on-demand' | 'cycle'): Promise<WriteLockHolder> {
  const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT, stateFile, mode], {
    cwd: repoRoot(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done) throw new Error(`write-lock holder exited: ${stderr}`);
    return r.value;
  };
  if ((await next()) !== 'ready') throw new Error(`write-lock holder did not start: ${stderr}`);
  return {
    async hold(ms) {
      child.stdin!.write(`hold ${ms}\n`);
      if ((await next()) !== 'held') throw new Error(`write-lock holder: ${stderr}`);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
