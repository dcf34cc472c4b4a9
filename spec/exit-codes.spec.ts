// Exit codes a scheduler acts on, one test per code, each with the --summary-json a scheduler reads afterwards.
// The command runs as a process of its own (`node bin/edfi-sync.js`), as a scheduler starts it.
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { EXIT } from '../src/cli/exit-codes.js';
import { COMMANDS, main } from '../src/cli/main.js';
import type { RunSummary } from '../src/cli/run-summary.js';
import { openState } from '../src/state/state-db.js';
import { runCli, type CliRun } from './helpers/cli.js';
import { CLIENT_SECRET, RESOURCE, students, studentTables, SyncHarness } from './helpers/sync-e2e.js';

describe('exit codes, one per outcome, with --summary-json', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async function () {
    await h?.close();
    h = undefined as unknown as SyncHarness;
  });

  const summaryFile = (): string => join(h.dir, 'summary.json');
  const summary = (): RunSummary => JSON.parse(readFileSync(summaryFile(), 'utf8')) as RunSummary;
  const sync = (...extra: string[]): Promise<CliRun> =>
    runCli(['sync', '--profile', 'core', '--snapshot', h.snapshot, '--state', h.state, '--api-base', h.server.url, '--summary-json', summaryFile(), ...extra]);

  async function world(list = students(3), heldBack = 0): Promise<void> {
    h = await SyncHarness.start();
    const tables = studentTables(list);
    // Students without a State ID: their records fail the Ed-Fi schema and are held back.
    for (const p of tables.Person!.slice(0, heldBack)) p.stateID = null;
    h.world(tables, { allowOrphans: heldBack > 0 });
    await h.preload();
  }

  function expectSummary(code: number, reason: string): RunSummary {
    const s = summary();
    expect(s).to.include({ exitCode: code, exitReason: reason, command: 'sync' });
    expect(s.runId).to.match(/^[0-9a-f-]{36}$/);
    expect(readFileSync(summaryFile(), 'utf8')).to.not.contain(CLIENT_SECRET);
    return s;
  }

  it('0 ok: everything sent; the summary counts it per connection', async function () {
    await world();
    const run = await sync();
    expect(run.code, run.stderr).to.equal(EXIT.ok);
    const s = expectSummary(0, 'ok');
    expect(s.stateRunId).to.equal(1);
    expect(s.connections).to.deep.equal([{
      connection: '1:2026', districtNumber: 1234567, schoolYear: 2026, exitCode: 0, exitReason: 'ok',
      counts: { candidates: 3, kept: 3, excluded: 0, heldBack: 0, shared: 0, unchanged: 0, toSend: 3, created: 3, updated: 0, deleted: 0, alreadyGone: 0, failed: 0 },
    }]);
    expect(s.totals.created).to.equal(3);
  });

  it('1 apiFailed: an operation failed at the API', async function () {
    await world();
    h.server.faults.add({ kind: 'answer', status: 400, body: { message: 'The request is invalid.' }, times: 1, match: { method: 'POST', pathIncludes: RESOURCE } });
    const run = await sync();
    expect(run.code, run.stderr).to.equal(EXIT.apiFailed);
    expect(expectSummary(1, 'apiFailed').connections[0]!.counts).to.include({ created: 2, failed: 1 });
  });

  it('2 usage: a bad option value (the summary says so too)', async function () {
    await world();
    const run = await sync('--concurrency', '0');
    expect(run.code).to.equal(EXIT.usage);
    expect(run.stderr).to.contain('--concurrency must be a whole number of at least 1');
    // The error and where the options are, not the whole help after it.
    expect(run.stderr).to.contain('(see: edfi-sync sync --help)');
    expect(run.stderr).to.not.contain('Usage:');
    expect(summary()).to.include({ exitCode: 2, exitReason: 'usage' });
    const both = await sync('--targets', join(h.dir, 't.yaml'));
    expect(both.code).to.equal(EXIT.usage);
    expect(both.stderr).to.contain('give --targets or --api-base, not both');
    const share = await sync('--max-delete-share', '1.5');
    expect(share.code).to.equal(EXIT.usage);
  });

  it('3 config: an invalid targets file, or a connection without credentials', async function () {
    await world();
    const targets = join(h.dir, 'targets.yaml');
    writeFileSync(targets, `defaults:\n  apiRoot: ${h.server.url}\n  credentials: { keyEnv: EDFI_CLIENT_ID, secret: abc }\n`);
    const args = ['sync', '--profile', 'core', '--snapshot', h.snapshot, '--state', h.state, '--targets', targets, '--summary-json', summaryFile()];
    const bad = await runCli(args);
    expect(bad.code).to.equal(EXIT.config);
    expect(bad.stderr).to.contain('a key or secret written into the targets file is refused');
    expect(summary()).to.include({ exitCode: 3, exitReason: 'config' });
    writeFileSync(targets, `defaults:\n  apiRoot: ${h.server.url}\n  credentials: { keyEnv: NO_SUCH_KEY, secretEnv: NO_SUCH_SECRET }\n`);
    const missing = await runCli(args);
    expect(missing.code).to.equal(EXIT.config);
    expect(summary().connections[0]!.message).to.equal('connection 1:2026: no key and secret in environment NO_SUCH_KEY / NO_SUCH_SECRET');
    // Not planned either: nothing could be sent to it.
    expect(summary().connections[0]!.counts).to.include({ kept: 0, toSend: 0 });
    expect(h.server.requests).to.deep.equal([]);
  });

  it('4 input: a state file that is not one (named), and a snapshot that fails its checks', async function () {
    await world();
    // A state file without the run a report asks for.
    expect((await runCli(['plan', '--profile', 'core', '--snapshot', h.snapshot, '--state', h.state, '--quiet'])).code).to.equal(EXIT.ok);
    const report = await runCli(['report', '--state', h.state, '--html', join(h.dir, 'r.html')]);
    expect(report.code).to.equal(EXIT.input);
    expect(report.stderr).to.contain(`state file ${h.state}: no sync run in this state file yet`);
    writeFileSync(h.state, 'not a database\n'.repeat(100));
    const run = await sync();
    expect(run.code).to.equal(EXIT.input);
    expect(run.stderr).to.contain(`state file ${h.state}: it is not a state file`);
    expect(run.stderr).to.not.match(/\n\s+at /);
    expect(summary()).to.include({ exitCode: 4, exitReason: 'input' });
    expect(readFileSync(h.state, 'utf8')).to.equal('not a database\n'.repeat(100));
    writeFileSync(h.snapshot, 'not a snapshot either\n'.repeat(100));
    const plan = await runCli(['plan', '--profile', 'core', '--snapshot', h.snapshot]);
    expect(plan.code).to.equal(EXIT.input);
    expect(plan.stderr).to.contain(`Cannot open snapshot ${h.snapshot}`);
  });

  it('5 refused: the mass-delete guard, and a connection locked by a live run', async function () {
    await world(students(6));
    expect((await sync()).code).to.equal(EXIT.ok);
    h.world(studentTables(students(6).map((s) => ({ ...s, noParticipation: true }))));
    const guarded = await sync('--max-delete-count', '2');
    expect(guarded.code, guarded.stderr).to.equal(EXIT.refused);
    expect(expectSummary(5, 'refused').connections[0]!.message).to.equal('refused: 6 delete(s) of 6 mapped record(s); the limit is 2');
    expect(h.store.count(RESOURCE)).to.equal(6);
    const db = openState(h.state);
    db.prepare('INSERT INTO lock (name, pid, host, started_at) VALUES (?, ?, ?, ?)').run('connection:1:2026', process.ppid, hostname(), new Date().toISOString());
    db.close();
    const locked = await sync('--allow-mass-delete');
    expect(locked.code).to.equal(EXIT.refused);
    expect(locked.stderr).to.contain('holds the lock of connection 1:2026');
    expect(summary()).to.include({ exitCode: 5, exitReason: 'refused' });
    expect(h.store.count(RESOURCE)).to.equal(6);
  });

  it('6 unreachable: no API at the address, or the key and secret refused', async function () {
    await world();
    const closed = await runCli(['sync', '--profile', 'core', '--snapshot', h.snapshot, '--state', h.state, '--api-base', 'http://127.0.0.1:9', '--summary-json', summaryFile()]);
    expect(closed.code, closed.stderr).to.equal(EXIT.unreachable);
    expect(summary().connections[0]!.message).to.match(/^connection 1:2026: could not reach the Ed-Fi API's root document at http:\/\/127\.0\.0\.1:9/);
    const refused = await runCli(['sync', '--profile', 'core', '--snapshot', h.snapshot, '--state', h.state, '--api-base', h.server.url, '--summary-json', summaryFile()], { EDFI_CLIENT_SECRET: 'wrong-Secret-e5' });
    expect(refused.code).to.equal(EXIT.unreachable);
    const c = summary().connections[0]!;
    expect(c.message).to.contain('refused its key and secret (from environment EDFI_CLIENT_ID / EDFI_CLIENT_SECRET)');
    expect(c.fix).to.contain('Double check your API credentials (key/secret)');
    expect(refused.stderr + JSON.stringify(summary())).to.not.contain('wrong-Secret-e5');
  });

  it('7 heldBack: nothing failed at the API, records held back by data problems; --held-back-ok makes it 0', async function () {
    await world(students(4), 2);
    const run = await sync();
    expect(run.code, run.stderr).to.equal(EXIT.heldBack);
    expect(expectSummary(7, 'heldBack').connections[0]!.counts).to.include({ heldBack: 2, created: 2, failed: 0, toSend: 2 });
    // A dry run sends nothing and is done: 0, held-back records or not.
    expect((await sync('--dry-run', '--out', join(h.dir, 'plan.jsonl'))).code).to.equal(EXIT.ok);
    const ok = await sync('--held-back-ok');
    expect(ok.code).to.equal(EXIT.ok);
    expect(expectSummary(0, 'ok').connections[0]!.counts).to.include({ heldBack: 2, unchanged: 2, toSend: 0 });
  });

  it('70 internal: an unexpected failure is a bug, not one of the outcomes above', async function () {
    const saved = { exitCode: process.exitCode, write: process.stderr.write.bind(process.stderr) };
    let text = '';
    process.stderr.write = ((s: string) => ((text += s), true)) as typeof process.stderr.write;
    COMMANDS.push({
      name: 'crash', description: 'fails unexpectedly',
      load: async () => (p) => void p.command('crash').action(() => { throw new TypeError('something is undefined'); }),
    });
    try {
      await main(['node', 'edfi-sync', 'crash']);
      expect(process.exitCode).to.equal(EXIT.internal);
      expect(text).to.equal('edfi-sync: something is undefined\n');
    } finally {
      COMMANDS.pop();
      process.stderr.write = saved.write;
      process.exitCode = saved.exitCode;
    }
  });
});
