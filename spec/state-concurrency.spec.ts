// A scheduler runs one job per connection, side by side, on one shared state file (spec/fan-out.spec.ts). Every
// write to the state file must wait for another process's write instead of failing: a transaction that reads and
// then writes is IMMEDIATE (a deferred one that upgrades to a writer gets SQLITE_BUSY at once, busy_timeout or
// not). And the decisions a plan stores (one row per distinct decision, ids in the evaluation cache) stay whole
// when plans run at once or a plan is killed: no entry points at a decision the file does not have.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { runDelete } from '../src/cli/commands/delete.js';
import { runPlan } from '../src/cli/commands/plan.js';
import { runResync } from '../src/cli/commands/resync.js';
import { runRetry } from '../src/cli/commands/retry.js';
import { preloadFromSnapshot } from '../src/cli/commands/test-server.js';
import { EXIT } from '../src/cli/exit-codes.js';
import { generateSnapshot } from '../src/snapshot/generate.js';
import { startTestServer } from '../src/testserver/server.js';
import type { JsonObject } from '../src/types.js';
import { repoPath, repoRoot } from '../src/util/repo-root.js';
import { runCli } from './helpers/cli.js';
import { EdFiClient } from '../src/emit/edfi-client.js';
import type { ResourceApi } from '../src/emit/api.js';
import { reconcile } from '../src/resync/reconcile.js';
import { openSnapshot } from '../src/snapshot/open.js';
import { openState } from '../src/state/state-db.js';
import { IdentityMap } from '../src/state/identity-map.js';
import { captureStderr, CLIENT_ID, CLIENT_SECRET, coreProfile, keyText, RESOURCE, sourceKey, studentTables, students, SyncHarness, writes } from './helpers/sync-e2e.js';
import { writeLockHolder } from './helpers/write-lock.js';

/** What SQLite says when a write could not wait for another writer. */
const BUSY = /SQLITE_BUSY|database is locked/i;

/** Runs a command function with stdout and stderr captured; returns its exit code and what it wrote. */
async function quietly(fn: () => Promise<number>): Promise<{ code: number; text: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => ((out += String(chunk)), true)) as typeof process.stdout.write;
  try {
    const { value, text } = await captureStderr(fn);
    return { code: value, text: `${out}${text}` };
  } finally {
    process.stdout.write = write;
  }
}

/** Evaluation cache entries that point at no stored decision (or at a provisional one), and decisions stored twice. */
function decisionProblems(stateFile: string): { dangling: number; provisional: number; twice: number } {
  // Read-write: a file whose writer was killed may need its WAL recovered before it can be read.
  const db = new Database(stateFile);
  db.pragma('busy_timeout = 30000');
  try {
    const one = (sql: string): number => (db.prepare(sql).get() as { n: number }).n;
    // A process killed before its first transaction (the schema) leaves a file with nothing in it yet.
    if (one("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'eval_cache'") === 0) return { dangling: 0, provisional: 0, twice: 0 };
    return {
      dangling: one('SELECT COUNT(*) AS n FROM eval_cache c LEFT JOIN decisions d ON d.decision_id = c.decision_id WHERE d.decision_id IS NULL'),
      provisional: one('SELECT COUNT(*) AS n FROM eval_cache WHERE decision_id <= 0'),
      twice: one('SELECT COUNT(*) - COUNT(DISTINCT hash) AS n FROM decisions'),
    };
  } finally {
    db.close();
  }
}

/** Connections whose evaluation cache a state file holds (0 when the file or its schema is not there yet). */
function scopesCached(stateFile: string): number {
  if (!existsSync(stateFile)) return 0;
  const db = new Database(stateFile);
  try {
    db.pragma('busy_timeout = 30000');
    return db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'eval_cache'").get() ? (db.prepare('SELECT COUNT(DISTINCT scope_id) AS n FROM eval_cache').get() as { n: number }).n : 0;
  } finally {
    db.close();
  }
}

describe('state file shared by parallel processes: writes wait, they do not fail', function () {
  this.timeout(240_000);

  it('resync writes its changes to the identity mapping in a transaction that waits for another writer (it reads before it writes)', async function () {
    const h = await SyncHarness.start();
    try {
      h.world(studentTables(students(6)));
      await h.preload();
      expect((await h.sync()).code).to.equal(EXIT.ok);
      const client = new EdFiClient({ baseUrl: h.server.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
      // Resync against a lost state file (it adopts every ODS record: the first write of a new file reads first),
      // then after someone edited a record in the ODS (it takes the ODS body as what was last sent). Each time the
      // other process takes the write lock the moment the ODS has been read, just before resync writes.
      rmSync(h.state);
      for (const suffix of ['-wal', '-shm']) rmSync(h.state + suffix, { force: true });
      openState(h.state).close();
      const holder = await writeLockHolder(h.state, 'on-demand');
      const api: ResourceApi = {
        post: (r, b) => client.post(r, b), put: (r, id, b) => client.put(r, id, b), delete: (r, id) => client.delete(r, id), get: (r, q, o) => client.get(r, q, o),
        async *getAll(r, q, size) {
          yield* client.getAll(r, q, size);
          await holder.hold(600);
        },
      };
      const snapshot = openSnapshot(h.snapshot);
      const state = openState(h.state);
      try {
        const resync = () => reconcile({ profile: coreProfile(), snapshot, state, api: () => api, apply: true, instanceOf: () => `${h.server.url}/data/v3` });
        const adopted = await resync();
        expect(adopted.counts.adopt).to.equal(6);
        expect(new IdentityMap(state).find({}).map((r) => r.edfiId).sort()).to.deep.equal(h.store.list(RESOURCE).map((i) => i.id).sort());
        const item = h.store.list(RESOURCE)[0]!;
        h.store.put(RESOURCE, item.id, { ...(item.body as JsonObject), privateCTEProgram: true });
        const refreshed = await resync();
        expect(refreshed.counts.refresh).to.equal(1);
        expect(new IdentityMap(state).find({ edfiId: item.id })[0]!.body.privateCTEProgram).to.equal(true);
      } finally {
        state.close();
        snapshot.close();
        await holder.stop();
      }
    } finally {
      await h.close();
    }
  });

  it('every command that writes the state file waits for another process holding its write lock (plan, sync, resync, retry, delete)', async function () {
    const h = await SyncHarness.start();
    const holder: { stop(): Promise<void> }[] = [];
    try {
      h.world(studentTables(students(8)));
      await h.preload();
      expect((await h.sync()).code).to.equal(EXIT.ok);
      holder.push(await writeLockHolder(h.state, 'cycle'));
      const o = { profile: 'core', snapshot: h.snapshot, state: h.state, apiBase: h.server.url, concurrency: 4, quiet: true };
      for (let round = 1; round <= 3; round++) {
        // Campus changes: an end date (PUT), a record gone (DELETE), a new record (POST).
        h.world(studentTables([...students(8).filter((s) => s.personID !== round), { personID: 10 + round }].map((s) => (s.personID === 8 ? { ...s, endDate: `2026-05-0${round}` } : s))));
        await h.preload();
        const plan = await quietly(() => runPlan({ profile: 'core', snapshot: h.snapshot, state: h.state, out: join(h.dir, 'plan.jsonl'), quiet: true }));
        expect(plan.code, plan.text).to.equal(EXIT.ok);
        const sync = await h.sync();
        expect(sync.code, sync.stderr).to.equal(EXIT.ok);
        expect(writes(sync.requests).length, `round ${round}: the change was sent`).to.be.greaterThan(0);
        // Someone edited a record in the ODS: resync reads it and writes the identity mapping (a transaction of its own).
        const item = h.store.list(RESOURCE)[0]!;
        h.store.put(RESOURCE, item.id, { ...(item.body as JsonObject), privateCTEProgram: true });
        const resync = await quietly(() => runResync(o));
        expect(resync.code, resync.text).to.equal(EXIT.ok);
        expect((h.store.get(RESOURCE, item.id)!.body as JsonObject).privateCTEProgram, `round ${round}: resync put the record back`).to.equal(false);
        // A send that fails, then its retry.
        h.server.faults.add({ kind: 'answer', status: 400, body: { message: 'The request is invalid.' }, times: 1, match: { method: 'PUT', pathIncludes: RESOURCE } });
        h.world(studentTables([...students(8).filter((s) => s.personID !== round), { personID: 10 + round }].map((s) => (s.personID === 7 ? { ...s, endDate: `2026-04-0${round}` } : s))));
        expect((await h.sync()).code).to.equal(EXIT.apiFailed);
        const retry = await quietly(() => runRetry(o));
        expect(retry.code, retry.text).to.equal(EXIT.ok);
        // The delete tool.
        const del = await quietly(() => runDelete({ profile: 'core', state: h.state, apiBase: h.server.url, sourceKey: sourceKey(10 + round) }));
        expect(del.code, del.text).to.equal(EXIT.ok);
        for (const text of [plan.text, sync.stderr, resync.text, retry.text, del.text, h.stderr]) expect(text).to.not.match(BUSY);
      }
      expect(decisionProblems(h.state)).to.deep.equal({ dangling: 0, provisional: 0, twice: 0 });
    } finally {
      for (const x of holder) await x.stop();
      await h.close();
    }
  });
});

describe('state file shared by parallel processes: many rounds of jobs of different connections at once', function () {
  this.timeout(600_000);
  let dir: string;
  let snapshot: string;
  const KEY = 'concurrency-key';
  const SECRET = 'concurrency-Secret-41c0a7';
  const ENV = { EDFI_CLIENT_ID: KEY, EDFI_CLIENT_SECRET: SECRET };
  const ROUNDS = Number(process.env.CONCURRENCY_ROUNDS ?? 4);

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'edfi-concurrency-'));
    snapshot = join(dir, 'snapshot.sqlite');
    generateSnapshot({ students: 300, seed: 11, profile: 'core', endYears: [2025, 2026], out: snapshot });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(`syncs, resyncs and plans of different connections in parallel processes, ${ROUNDS} rounds of Campus changes: every run succeeds, one owner per record, decisions whole`, async function () {
    const server = await startTestServer({ clientId: KEY, clientSecret: SECRET });
    const state = join(dir, 'state.sqlite');
    const common = ['--profile', 'core', '--snapshot', snapshot, '--state', state];
    const api = ['--api-base', server.url, '--data-path', '/data/v3/{endYear}', '--concurrency', '4', '--quiet', '--allow-mass-delete'];
    try {
      await preloadFromSnapshot(server, snapshot, ['core'], '/data/v3/{endYear}');
      const listed = await runCli(['connections', '--profile', 'core', '--snapshot', snapshot, '--format', 'json']);
      const keys = (JSON.parse(listed.stdout) as Array<{ key: string; enabled: boolean }>).filter((c) => c.enabled).map((c) => c.key);
      expect(keys.length).to.be.at.least(4);
      for (let round = 0; round < ROUNDS; round++) {
        if (round > 0) {
          // Campus changes between nights: end dates (PUT), start dates (a natural-key change), No Shows (DELETE).
          const db = new Database(snapshot);
          db.prepare('UPDATE ProgramParticipation SET endDate = ? WHERE participationID % 7 = ?').run(`2026-05-${10 + round}`, round);
          db.prepare("UPDATE ProgramParticipation SET startDate = date(startDate, '+1 day') WHERE participationID % 11 = ? AND startDate IS NOT NULL").run(round);
          db.prepare('UPDATE Enrollment SET noShow = 1 - noShow WHERE enrollmentID % 13 = ?').run(round);
          db.close();
          await preloadFromSnapshot(server, snapshot, ['core'], '/data/v3/{endYear}');
        }
        // Half of the connections sync, the other half resync (the first round: everything syncs), and a plan of
        // every connection reads the state file meanwhile.
        const jobs = keys.map((k, i) => (round > 0 && i % 2 === round % 2 ? ['resync', ...common, ...api, '--connection', k] : ['sync', ...common, ...api, '--connection', k]));
        jobs.push(['plan', ...common, '--out', join(dir, `plan-${round}.jsonl`), '--quiet']);
        const runs = await Promise.all(jobs.map((args) => runCli(args, ENV)));
        runs.forEach((r, i) => {
          const what = `round ${round}: ${jobs[i]!.slice(0, 1).join(' ')} ${jobs[i]!.slice(-1).join(' ')}`;
          expect(r.stderr, what).to.not.match(BUSY);
          expect(r.code, `${what}: ${r.stderr}`).to.be.oneOf([EXIT.ok, EXIT.heldBack]);
        });
        expect(decisionProblems(state), `round ${round}`).to.deep.equal({ dangling: 0, provisional: 0, twice: 0 });
      }
      // One owner per ODS record and instance, and every mapped id is in the ODS with the body last sent.
      const db = new Database(state, { readonly: true });
      const rows = db.prepare('SELECT connection, source_key, instance, edfi_id, nk_hash, body FROM identity_map WHERE edfi_id IS NOT NULL').all() as Array<{ connection: string; instance: string; edfi_id: string; nk_hash: string; body: string }>;
      db.close();
      expect(new Set(rows.map((r) => `${r.instance}|${r.edfi_id}`)).size).to.equal(rows.length);
      expect(new Set(rows.map((r) => `${r.instance}|${r.nk_hash}`)).size).to.equal(rows.length);
      for (const r of rows) {
        const store = server.instance(r.instance.slice(server.url.length));
        expect(keyText((store.get(RESOURCE, r.edfi_id)?.body ?? {}) as JsonObject), `${r.connection}: ${r.edfi_id}`).to.equal(keyText(JSON.parse(r.body) as JsonObject));
      }
      // Settled: one more run of everything sends nothing.
      const from = server.requests.length;
      const settle = await runCli(['sync', ...common, ...api], ENV);
      expect(settle.code, settle.stderr).to.be.oneOf([EXIT.ok, EXIT.heldBack]);
      expect(server.requests.slice(from).filter((r) => r.method !== 'GET' && r.path.includes(RESOURCE))).to.deep.equal([]);
    } finally {
      await server.close();
    }
  });

  it('a plan killed while it writes its evaluation cache leaves no entry without its decision, and the next plan is the plan of a fresh state', async function () {
    const big = join(dir, 'big.sqlite');
    generateSnapshot({ students: 6000, seed: 12, profile: 'core', endYears: [2024, 2025, 2026], out: big });
    const state = join(dir, 'killed.sqlite');
    const args = ['plan', '--profile', 'core', '--snapshot', big, '--state', state, '--quiet'];
    const partial: number[] = [];
    for (let kill = 0; kill < 4; kill++) {
      const before = scopesCached(state);
      const child = spawn(process.execPath, [repoPath('bin', 'edfi-sync.js'), ...args, '--out', join(dir, 'killed.jsonl')], { cwd: repoRoot(), stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      // Killed as soon as it has written the cache of one more connection (while it plans the next one).
      let done = false;
      void exited.then(() => (done = true));
      while (!done && scopesCached(state) <= before) await new Promise((r) => setTimeout(r, 15));
      child.kill('SIGKILL');
      await exited;
      expect(decisionProblems(state), `kill ${kill}`).to.deep.equal({ dangling: 0, provisional: 0, twice: 0 });
      partial.push(scopesCached(state));
    }
    // Each kill left the cache of some connections and not of others.
    expect(partial[0]).to.be.greaterThan(0);
    const again = await runCli([...args, '--out', join(dir, 'again.jsonl')]);
    expect(again.code, again.stderr).to.equal(EXIT.ok);
    expect(scopesCached(state)).to.be.greaterThan(partial[0]!);
    const fresh = await runCli(['plan', '--profile', 'core', '--snapshot', big, '--quiet', '--out', join(dir, 'fresh.jsonl')]);
    expect(fresh.code, fresh.stderr).to.equal(EXIT.ok);
    const lines = (f: string): string[] => readFileSync(join(dir, f), 'utf8').trim().split('\n');
    expect(lines('again.jsonl').length).to.be.greaterThan(1000);
    expect(lines('again.jsonl')).to.deep.equal(lines('fresh.jsonl'));
  });
});
