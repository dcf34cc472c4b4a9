// A sync killed mid-way (SIGKILL, as a reboot or an OOM killer would) and run again: the ODS ends up holding
// exactly what the plan wants, without duplicates or orphans, and the dead run's lock does not block the re-run.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { preloadFromSnapshot } from '../src/cli/commands/test-server.js';
import { EXIT } from '../src/cli/exit-codes.js';
import { generateSnapshot } from '../src/snapshot/generate.js';
import type { EdFiStore } from '../src/testserver/store.js';
import { repoPath, repoRoot } from '../src/util/repo-root.js';
import { CLIENT_ID, CLIENT_SECRET, coreProfileFor, FLAVORS, keyText, naturalKeyOfBody, RESOURCE, SyncHarness, writes } from './helpers/sync-e2e.js';

/**
 * Year-specific ODS instances: each school year's connections send to their own database. An ODS/API 5.x/6.x is
 * told so with --data-path; ODS/API 7.x and the DMS route each year by themselves (their root document says how).
 */
const YEAR_PATH = '/data/v3/{endYear}';
const YEARS = [2025, 2026];
const LATENCY_MS = 20;
const KILL_AFTER = 40;

for (const flavor of FLAVORS) describe(`sync killed mid-way, then run again (${flavor})`, function () {
  this.timeout(60_000);
  let h: SyncHarness;
  let child: ChildProcess | undefined;

  afterEach(async function () {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
    await h?.close();
  });

  const dataPath = flavor === 'ods-6' ? YEAR_PATH : undefined;
  const profile = coreProfileFor(flavor);
  const instance = (year: number): EdFiStore => (dataPath ? h.server.instance(dataPath.replace('{endYear}', String(year))) : h.server.instanceFor(year));
  const storedCount = (): number => YEARS.reduce((n, y) => n + instance(y).count(RESOURCE), 0);

  it('converges: exactly the planned records in the ODS, no duplicates or orphans; a third run sends nothing', async function () {
    h = await SyncHarness.start({ flavor });
    generateSnapshot({ students: 600, seed: 7, profile: 'core', endYears: YEARS, out: h.snapshot });
    await preloadFromSnapshot(h.server, h.snapshot, [profile], dataPath);
    // Each school year is an ODS instance of its own (the year data path, or the flavor's route context).
    const desired = await h.desired(dataPath ?? '/{endYear}');
    expect(desired.length).to.be.greaterThan(200);
    h.server.faults.setLatency(LATENCY_MS);

    // The scheduled job, as a process of its own.
    const stderr: string[] = [];
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child = spawn(
        process.execPath,
        [repoPath('bin', 'edfi-sync.js'), 'sync', '--profile', profile, '--snapshot', h.snapshot, '--state', h.state,
          '--api-base', h.server.url, ...(dataPath ? ['--data-path', dataPath] : []), '--concurrency', '4', '--quiet'],
        { cwd: repoRoot(), env: { ...process.env, EDFI_CLIENT_ID: CLIENT_ID, EDFI_CLIENT_SECRET: CLIENT_SECRET }, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString('utf8')));
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    let finished = false;
    void exited.then(() => (finished = true));
    while (storedCount() < 1 && !finished) await sleep(5);
    // While it runs, a second run on the same state file is refused (exit code 5) before it plans or sends.
    const blocked = await h.sync({ dataPath }).then(
      () => undefined,
      (err: unknown) => err as Error & { exitCode?: number },
    );
    expect(blocked?.exitCode).to.equal(EXIT.refused);
    expect(blocked?.message).to.match(/another run \(pid \d+ .*\) holds the lock/);
    while (storedCount() < KILL_AFTER && !finished) await sleep(5);
    expect(finished, `the child finished before it could be killed: ${stderr.join('')}`).to.equal(false);
    child!.kill('SIGKILL');
    const end = await exited;
    expect(end.signal).to.equal('SIGKILL');
    // Requests the child had in flight still reach the store after it died, as on a real ODS.
    await sleep(LATENCY_MS * 5);
    const sentBeforeKill = storedCount();
    expect(sentBeforeKill).to.be.lessThan(desired.length);

    // The dead run's lock is still in the state file, and some records are recorded as sent.
    // One lock per connection the dead run worked on, all of them its own.
    const connections = new Set(desired.map((d) => d.connection));
    expect(h.locks().map((l) => l.name).sort()).to.include.members([...connections].map((c) => `connection:${c}`));
    expect(h.locks().every((l) => l.pid === child!.pid && l.name.startsWith('connection:'))).to.equal(true);
    const recorded = h.identity().filter((r) => r.edfiId).length;
    expect(recorded).to.be.greaterThan(0);

    // The next run takes the lock over and sends the rest.
    h.server.faults.setLatency(0);
    const rerun = await h.sync({ dataPath });
    // The generated world has records the plan holds back (invalid or duplicate Campus data): those make the exit
    // code 7 (held back), and no record the run sent failed.
    expect(rerun.code, rerun.stderr).to.be.oneOf([EXIT.ok, EXIT.heldBack]);
    const emitted = (h.lastRun().summary as { emit: { failed: number; aborted?: string } }).emit;
    expect(emitted.failed).to.equal(0);
    expect(emitted.aborted).to.equal(undefined);
    expect(h.locks()).to.deep.equal([]);
    const w = writes(rerun.requests);
    expect(w.every((r) => r.method === 'POST')).to.equal(true);
    expect(w.length).to.equal(desired.length - recorded);
    // Records the killed run stored but had no time to record are upserted by natural key (200), not duplicated.
    expect(w.filter((r) => r.status === 200).length).to.equal(sentBeforeKill - recorded);
    expect(w.filter((r) => r.status === 201).length).to.equal(desired.length - sentBeforeKill);

    // Per school-year instance: exactly the desired natural keys, each once.
    for (const year of YEARS) {
      const want = desired.filter((d) => d.connection.endsWith(`:${year}`)).map((d) => keyText(d.naturalKey)).sort();
      const have = instance(year).list(RESOURCE).map((i) => keyText(naturalKeyOfBody(i.body))).sort();
      expect(have, `instance ${year}`).to.deep.equal(want);
      expect(new Set(have).size).to.equal(have.length);
    }
    // The identity mapping: one row per desired record, holding the id the ODS has for it.
    const identity = h.identity();
    expect(identity.map((r) => `${r.connection}/${r.sourceKey}`).sort()).to.deep.equal(desired.map((d) => `${d.connection}/${d.sourceKey}`).sort());
    for (const d of desired) {
      const row = identity.find((r) => r.connection === d.connection && r.sourceKey === d.sourceKey)!;
      expect(row.edfiId).to.equal(instance(Number(d.connection.split(':')[1])).findId(RESOURCE, d.body));
    }
    expect(new Set(identity.map((r) => r.edfiId)).size).to.equal(identity.length);

    const third = await h.sync({ dataPath });
    expect(third.code).to.equal(rerun.code);
    expect(writes(third.requests)).to.deep.equal([]);
    expect(stderr.join('')).to.not.include(CLIENT_SECRET);
  });
});
