// A sync stopped by SIGTERM, as Kubernetes, Airflow and systemd end a job on a timeout or a shutdown: no new request
// after the signal, the ones in flight written down, the lock released, the run recorded as stopped, --summary-json
// written, exit code 143; the next run sends the rest, nothing twice.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
});
