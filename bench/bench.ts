// npm run bench [-- --students N] [--skip-emit]: the numbers in the closing notes come from here, never from
// timed tests. It generates a snapshot, times a bare SQLite scan of the source rows, a full plan, a plan after
// 1% of the records changed, and the emitter against the local test server with 5 ms injected latency.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { emitPlan } from '../src/emit/emitter.js';
import { EdFiClient } from '../src/emit/edfi-client.js';
import { OfflineApi } from '../src/fixtures/offline-api.js';
import { buildPlan } from '../src/plan/planner.js';
import { loadProfile } from '../src/profile/load-profile.js';
import { readConnections } from '../src/snapshot/connections.js';
import { generateSnapshot } from '../src/snapshot/generate.js';
import { openSnapshot } from '../src/snapshot/open.js';
import { openState } from '../src/state/state-db.js';
import { preloadReferences, startTestServer } from '../src/testserver/server.js';
import type { Operation } from '../src/types.js';

// The same young-generation size as the edfi-sync command (bin/edfi-sync.js), so the figures match it.
setFlagsFromString('--max-semi-space-size=32');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const students = arg('students', 100_000);
const skipEmit = process.argv.includes('--skip-emit');
const dir = '.bench';
const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;
const peak = (): string => mb(process.resourceUsage().maxRSS);
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function timed<T>(label: string, f: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const t = performance.now();
  const value = await f();
  const ms = performance.now() - t;
  console.log(`${label.padEnd(46)} ${secs(ms).padStart(10)}   peak RSS ${peak()}`);
  return { value, ms };
}

async function main(): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const snap1 = join(dir, 'night1.sqlite');
  const snap2 = join(dir, 'night2.sqlite');
  const stateFile = join(dir, 'state.sqlite');
  console.log(`edfi-rules-sync benchmark: ${students} students, Node ${process.version}`);
  await timed(`generate snapshot (${students} students)`, () => generateSnapshot({ students, seed: 42, out: snap1 }));

  const profile = loadProfile('core');
  const scan = await timed('bare SQLite scan of the source query', () => {
    const db = openSnapshot(snap1);
    let rows = 0;
    const stmt = db.prepare(profile.sourceSql);
    for (const c of readConnections(db, profile)) {
      for (const _ of stmt.iterate({ configID: c.configID, districtID: c.districtID, endYear: c.endYear, yearStart: c.yearStart, yearEnd: c.yearEnd })) rows++;
    }
    db.close();
    return rows;
  });
  const rows = scan.value;
  console.log(`  ${rows} candidate rows, ${(rows / (scan.ms / 1000)).toFixed(0)} rows/s`);

  const snapshot1 = openSnapshot(snap1);
  const threaded = await timed('full plan on 2 worker threads (state discarded)', () => buildPlan({ profile, snapshot: snapshot1, state: openState(':memory:') }));
  console.log(`  ${(rows / (threaded.ms / 1000)).toFixed(0)} records/s`);
  const state = openState(stateFile);
  const full = await timed('full plan (every record evaluated)', () => buildPlan({ profile, snapshot: snapshot1, state }));
  console.log(`  ${full.value.summary.evaluated} evaluated, ${full.value.operations.length} operations, ${(rows / (full.ms / 1000)).toFixed(0)} records/s`);
  await timed('apply the plan offline (identity mapping written)', () => emitPlan({ api: new OfflineApi(), profile, plan: full.value, state, runId: null, concurrency: 32 }));
  snapshot1.close();

  copyFileSync(snap1, snap2);
  const edit = new Database(snap2);
  const changed = edit.prepare("UPDATE ProgramParticipation SET studentStatus = CASE WHEN studentStatus = 'Completer' THEN 'Participant' ELSE 'Completer' END WHERE participationID % 100 = 7").run().changes;
  edit.close();
  const snapshot2 = openSnapshot(snap2);
  const incr = await timed(`plan after ${changed} program records changed (~1%)`, () => buildPlan({ profile, snapshot: snapshot2, state }));
  console.log(`  ${incr.value.summary.evaluated} evaluated, ${incr.value.operations.length} operations, ${(rows / (incr.ms / 1000)).toFixed(0)} records/s`);
  console.log(`  ratio full / incremental: ${(full.ms / incr.ms).toFixed(1)}x; incremental / bare scan: ${(incr.ms / scan.ms).toFixed(1)}x`);
  await emitPlan({ api: new OfflineApi(), profile, plan: incr.value, state, runId: null, concurrency: 32 });
  const same = await timed('plan of the same snapshot again (nothing changed)', () => buildPlan({ profile, snapshot: snapshot2, state }));
  console.log(`  ${same.value.summary.evaluated} evaluated, ${same.value.operations.length} operations; vs bare scan ${(same.ms / scan.ms).toFixed(1)}x`);
  snapshot2.close();
  state.close();

  if (skipEmit) return;
  console.log('\nemit throughput against the local Ed-Fi test server, 5 ms injected latency per request');
  const bodies = full.value.operations.filter((o): o is Operation & { body: object } => o.method === 'POST' && o.body !== undefined);
  for (const concurrency of [1, 8, 32]) {
    const server = await startTestServer({ clientId: 'bench', clientSecret: 'bench-secret' });
    try {
      const count = concurrency === 1 ? 300 : 2000;
      const ops = bodies.slice(0, count);
      preloadReferences(server, ops.map((o) => o.body));
      server.faults.setLatency(5);
      const emitState = openState(':memory:');
      const client = new EdFiClient({ baseUrl: server.url, clientId: 'bench', clientSecret: 'bench-secret' });
      const plan = { ...full.value, operations: ops, issues: [], forget: [] };
      const r = await timed(`  concurrency ${String(concurrency).padStart(2)}: ${ops.length} POSTs`, () => emitPlan({ api: client, profile, plan, state: emitState, runId: null, concurrency }));
      console.log(`    ${(ops.length / (r.ms / 1000)).toFixed(0)} operations/s, ${r.value.created} created, ${r.value.failed} failed`);
      emitState.close();
    } finally {
      await server.close();
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
