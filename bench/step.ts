// One measured step of `npm run bench`, run in a process of its own so its peak RSS is its own. Prints one JSON
// line: the step's wall time (its work only, not the process start) and the process's peak resident memory.
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setFlagsFromString } from 'node:v8';
import Database from 'better-sqlite3';
import { operationLine } from '../src/cli/output.js';
import { EdFiClient } from '../src/emit/edfi-client.js';
import { emitPlan } from '../src/emit/emitter.js';
import { collectPlan, planRun } from '../src/plan/planner.js';
import { groupColumns } from '../src/plan/read.js';
import { emptyPlan } from '../src/plan/plan-types.js';
import { loadProfile } from '../src/profile/load-profile.js';
import { readConnections } from '../src/snapshot/connections.js';
import { generateSnapshot } from '../src/snapshot/generate.js';
import { openSnapshot } from '../src/snapshot/open.js';
import { openState } from '../src/state/state-db.js';
// An ODS that accepts everything, without a network: the apply step fills the identity mapping for the next night.
import { AcceptingApi } from '../spec/helpers/accepting-api.js';
import type { Operation } from '../src/types.js';

// The same young-generation size as the edfi-sync command (bin/edfi-sync.js), so the figures match it.
setFlagsFromString('--max-semi-space-size=32');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}
function need(name: string): string {
  const v = arg(name);
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}

function report(values: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ ...values, rssMB: Math.round(process.resourceUsage().maxRSS / 1024) }) + '\n');
}

async function main(): Promise<void> {
  const step = process.argv[2];
  if (step === 'generate') {
    const t = performance.now();
    const s = generateSnapshot({ students: Number(need('students')), seed: Number(arg('seed') ?? 42), out: need('out'), profile: 'both' });
    report({ ms: performance.now() - t, bytes: statSync(s.out).size, counts: s.counts });
    return;
  }
  if (step === 'scan') {
    // The bare scan: the source query of every connection the planner really reads (resource toggled on),
    // `ordered` as the planner runs it (ORDER BY its derive groups, then the source key), or as the profile wrote it.
    const profile = loadProfile(need('profile'));
    const db = openSnapshot(need('snapshot'));
    const groups = groupColumns(profile);
    const ordered = arg('ordered') === '1' && (profile.def.derive ?? []).length > 0;
    const sql = ordered ? `SELECT * FROM (\n${profile.sourceSql.trim().replace(/;+\s*$/, '')}\n) ORDER BY ${[...groups, ...profile.def.source.key].join(', ')}` : profile.sourceSql;
    const stmt = db.prepare(sql).raw(true);
    const t = performance.now();
    let rows = 0;
    for (const c of readConnections(db, profile)) {
      if (!c.resourceEnabled) continue;
      for (const _ of stmt.iterate({ configID: c.configID, districtID: c.districtID, endYear: c.endYear, yearStart: c.yearStart, yearEnd: c.yearEnd })) rows++;
    }
    report({ ms: performance.now() - t, rows });
    db.close();
    return;
  }
  if (step === 'plan') {
    // A plan as `edfi-sync plan` makes it: every operation read back and written as a JSON line (to nowhere).
    const profile = loadProfile(need('profile'));
    const snapshot = openSnapshot(need('snapshot'));
    const state = openState(need('state'));
    const t = performance.now();
    const plan = await planRun({ profile, snapshot, state });
    let bytes = 0;
    let ops = 0;
    for (const op of plan.operations()) {
      bytes += operationLine(op).length + 1;
      ops++;
    }
    const ms = performance.now() - t;
    report({ ms, rows: plan.summary.candidates, evaluated: plan.summary.evaluated, ops, bytes, unchanged: plan.summary.unchanged });
    plan.close();
    state.close();
    snapshot.close();
    return;
  }
  if (step === 'apply') {
    // The plan applied as if the ODS accepted everything, so that the next night has an identity mapping.
    const profile = loadProfile(need('profile'));
    const snapshot = openSnapshot(need('snapshot'));
    const state = openState(need('state'));
    const t = performance.now();
    const plan = await planRun({ profile, snapshot, state });
    const r = await emitPlan({ api: new AcceptingApi(), profile, plan, state, runId: null, concurrency: 32 });
    plan.close();
    state.pragma('wal_checkpoint(TRUNCATE)');
    state.close();
    snapshot.close();
    report({ ms: performance.now() - t, created: r.created });
    return;
  }
  if (step === 'bodies') {
    // POST bodies for the emitter benchmark, from a real plan.
    const profile = loadProfile('core');
    const snapshot = openSnapshot(need('snapshot'));
    const state = openState('');
    const plan = await collectPlan({ profile, snapshot, state });
    const out = createWriteStream(need('out'));
    let n = 0;
    for (const op of plan.operations) if (op.method === 'POST' && op.body) (out.write(JSON.stringify(op) + '\n'), n++);
    await new Promise<void>((resolve) => out.end(() => resolve()));
    report({ ms: 0, bodies: n });
    return;
  }
  if (step === 'emit') {
    const url = need('url');
    const concurrency = Number(need('concurrency'));
    const ops: Operation[] = [];
    const limit = Number(arg('limit') ?? Infinity);
    for await (const line of createInterface({ input: createReadStream(need('bodies')) })) if (line && ops.length < limit) ops.push(JSON.parse(line) as Operation);
    const mode = need('mode');
    if (mode === 'bare') {
      // The floor: fetch with the same bodies, headers and concurrency, and nothing else.
      const target = `${url}/data/v3/ed-fi/studentCTEProgramAssociations`;
      const headers = { authorization: 'Bearer bench-token', accept: 'application/json', 'content-type': 'application/json' };
      let i = 0;
      const t = performance.now();
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (i < ops.length) {
          const op = ops[i++]!;
          const r = await fetch(target, { method: 'POST', headers, body: JSON.stringify(op.body) });
          await r.text();
          if (r.status !== 201) throw new Error(`bare loop: HTTP ${r.status}`);
        }
      }));
      report({ ms: performance.now() - t, ops: ops.length });
      return;
    }
    if (mode === 'client') {
      // The Ed-Fi client alone in the same loop (token, retries, error reading), without the emitter around it.
      const client = new EdFiClient({ baseUrl: url, clientId: 'bench', clientSecret: 'bench-secret' });
      let i = 0;
      const t = performance.now();
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (i < ops.length) {
          const r = await client.post('/ed-fi/studentCTEProgramAssociations', ops[i++]!.body ?? {});
          if (r.status !== 201) throw new Error(`client loop: HTTP ${r.status}`);
        }
      }));
      report({ ms: performance.now() - t, ops: ops.length });
      return;
    }
    // The emitter as sync runs it: the Ed-Fi client, the pool, and every outcome written to a state file.
    const profile = loadProfile('core');
    const state = openState(need('state'));
    const client = new EdFiClient({ baseUrl: url, clientId: 'bench', clientSecret: 'bench-secret' });
    const plan = emptyPlan('core', profile.def.resource.name, ops);
    const t = performance.now();
    const r = await emitPlan({ api: client, profile, plan, state, runId: null, concurrency });
    const ms = performance.now() - t;
    state.close();
    if (r.created !== ops.length) throw new Error(`emitter: ${r.created} created of ${ops.length} (${JSON.stringify(r)})`);
    report({ ms, ops: ops.length });
    return;
  }
  if (step === 'size') {
    const db = new Database(need('state'), { readonly: true });
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((x) => x.name);
    const rows: Record<string, number> = {};
    for (const name of tables) rows[name] = (db.prepare(`SELECT COUNT(*) AS n FROM "${name}"`).get() as { n: number }).n;
    db.close();
    report({ ms: 0, bytes: statSync(need('state')).size, rows, snapshotBytes: statSync(need('snapshot')).size });
    return;
  }
  throw new Error(`unknown step ${String(step)}`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

