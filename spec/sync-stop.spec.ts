// A sync stopped by SIGTERM, as Kubernetes, Airflow and systemd end a job on a timeout or a shutdown: no new request
// after the signal, the ones in flight written down, the lock released, the run recorded as stopped, --summary-json
// written, exit code 143; the next run sends the rest, nothing twice.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { preloadFromSnapshot } from '../src/cli/commands/test-server.js';
import { EXIT } from '../src/cli/exit-codes.js';
import { generateSnapshot } from '../src/snapshot/generate.js';
import { repoPath, repoRoot } from '../src/util/repo-root.js';
import { CLIENT_ID, CLIENT_SECRET, coreProfileFor, RESOURCE, SyncHarness, writes } from './helpers/sync-e2e.js';

describe('sync stopped by SIGTERM, then run again', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  let child: ChildProcess | undefined;
  afterEach(async function () {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
    await h?.close();
  });

  it('finishes what is in flight, writes it down, releases the lock, exits 143; the next run sends only the rest', async function () {
    h = await SyncHarness.start({ flavor: 'ods-6' });
    const profile = coreProfileFor('ods-6');
    generateSnapshot({ students: 500, seed: 11, profile: 'core', endYears: [2026], out: h.snapshot });
    await preloadFromSnapshot(h.server, h.snapshot, [profile]);
    const desired = await h.desired();
    h.server.faults.setLatency(20);
    const summaryFile = join(h.dir, 'summary.json');
    const stderr: string[] = [];
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child = spawn(process.execPath, [repoPath('bin', 'edfi-sync.js'), 'sync', '--profile', profile, '--snapshot', h.snapshot, '--state', h.state,
        '--api-base', h.server.url, '--concurrency', '4', '--quiet', '--summary-json', summaryFile],
      { cwd: repoRoot(), env: { ...process.env, EDFI_CLIENT_ID: CLIENT_ID, EDFI_CLIENT_SECRET: CLIENT_SECRET }, stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString('utf8')));
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    while (h.store.count(RESOURCE) < 30) await sleep(5);
    child!.kill('SIGTERM');
    const end = await exited;
    expect(end.code, stderr.join('')).to.equal(EXIT.stopped);
    expect(stderr.join('')).to.contain('SIGTERM: stopping');
    const inOds = h.store.count(RESOURCE);
    expect(inOds).to.be.lessThan(desired.length);
    // Every record in the ODS is written down: the stop waited for the answers in flight.
    expect(h.identity().filter((r) => r.edfiId).length).to.equal(inOds);
    expect(h.locks()).to.deep.equal([]);
    expect(h.lastRun().status).to.equal('stopped');
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as { exitCode: number; exitReason: string };
    expect(summary).to.include({ exitCode: EXIT.stopped, exitReason: 'stopped' });

    h.server.faults.setLatency(0);
    const rerun = await h.sync();
    expect(rerun.code, rerun.stderr).to.be.oneOf([EXIT.ok, EXIT.heldBack]);
    const w = writes(rerun.requests);
    expect(w.every((r) => r.method === 'POST' && r.status === 201), 'only records not sent before, each created once').to.equal(true);
    expect(w.length).to.equal(desired.length - inOds);
    expect(h.store.count(RESOURCE)).to.equal(desired.length);
  });

  it('while planning: the plan stops at its next step (a minute and more at a million records), exit 143, nothing sent', async function () {
    h = await SyncHarness.start({ flavor: 'ods-6' });
    generateSnapshot({ students: 30000, seed: 12, profile: 'core', endYears: [2026], out: h.snapshot });
    const stderr: string[] = [];
    const started = Date.now();
    const exited = new Promise<number | null>((resolve) => {
      child = spawn(process.execPath, [repoPath('bin', 'edfi-sync.js'), 'sync', '--profile', 'core', '--snapshot', h.snapshot, '--state', h.state,
        '--dry-run', '--out', join(h.dir, 'ops.jsonl')],
      { cwd: repoRoot(), env: { ...process.env }, stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString('utf8')));
      child.on('exit', (code) => resolve(code));
    });
    // Planning has begun once the run holds its lock.
    const locked = (): boolean => {
      try {
        return existsSync(h.state) && h.locks().length > 0;
      } catch {
        return false; // the state file is being created
      }
    };
    while (!locked() && child!.exitCode === null) await sleep(20);
    child!.kill('SIGTERM');
    const code = await exited;
    expect(code, stderr.join('')).to.equal(EXIT.stopped);
    expect(stderr.join('')).to.contain('stopped by SIGTERM while planning');
    expect(h.locks()).to.deep.equal([]);
    expect(h.lastRun().status).to.equal('stopped');
    expect(Date.now() - started).to.be.lessThan(30_000);
  });

  it('one state file per connection: the connections after the one being sent are not run', async function () {
    h = await SyncHarness.start({ flavor: 'ods-6' });
    generateSnapshot({ students: 300, seed: 7, profile: 'core', endYears: [2025, 2026], out: h.snapshot });
    // An ODS per district and school year, as one state file per connection needs.
    const districts = [4826100, 480101, 1150025];
    for (const n of districts) await preloadFromSnapshot(h.server, h.snapshot, ['core'], `/data/v3/${n}/{endYear}`);
    const targets = join(h.dir, 'targets.yaml');
    writeFileSync(targets, ['defaults:', `  apiRoot: ${h.server.url}`, '  dataPath: /data/v3/{district}/{schoolYear}', '  credentials: { keyEnv: EDFI_CLIENT_ID, secretEnv: EDFI_CLIENT_SECRET }'].join('\n'));
    const total = (): number => districts.flatMap((n) => [2025, 2026].map((y) => h.server.instance(`/data/v3/${n}/${y}`).count(RESOURCE))).reduce((a, b) => a + b, 0);
    h.server.faults.setLatency(20);
    const stderr: string[] = [];
    const exited = new Promise<number | null>((resolve) => {
      child = spawn(process.execPath, [repoPath('bin', 'edfi-sync.js'), 'sync', '--profile', 'core', '--snapshot', h.snapshot,
        '--state', join(h.dir, 'state-{connection}.sqlite'), '--targets', targets, '--concurrency', '2', '--quiet'],
      { cwd: repoRoot(), env: { ...process.env, EDFI_CLIENT_ID: CLIENT_ID, EDFI_CLIENT_SECRET: CLIENT_SECRET }, stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString('utf8')));
      child.on('exit', (code) => resolve(code));
    });
    while (total() < 20 && child!.exitCode === null) await sleep(5);
    child!.kill('SIGTERM');
    const atSignal = total();
    const code = await exited;
    expect(code, stderr.join('')).to.equal(EXIT.stopped);
    expect(stderr.join(''), stderr.join('')).to.match(/not run, the run was stopped by SIGTERM: \d+:20\d\d/);
    // In flight when the signal came (concurrency 2, plus the answers on their way): a handful, not the other connections.
    expect(total() - atSignal).to.be.lessThan(10);
  });
});
