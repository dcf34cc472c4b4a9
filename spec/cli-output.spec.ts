// What the command line prints for people and for schedulers: progress, the plan summary, --help, the end of a
// pipe, and the test server's start.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { expect } from 'chai';
import { EXIT } from '../src/cli/exit-codes.js';
import { COMMANDS } from '../src/cli/main.js';
import { planSummaryText } from '../src/cli/output.js';
import { LOG_INTERVAL_MS, sendingProgress } from '../src/cli/progress.js';
import { createRunLog } from '../src/log/run-log.js';
import { buildPlan } from '../src/plan/planner.js';
import { buildSnapshotFromFixture, loadFixture } from '../src/snapshot/fixture.js';
import { generateSnapshot } from '../src/snapshot/generate.js';
import { openSnapshot } from '../src/snapshot/open.js';
import { emptyState } from '../src/state/state-db.js';
import { repoPath, repoRoot } from '../src/util/repo-root.js';
import { runCli } from './helpers/cli.js';
import { coreProfile, fixtureYaml, students, studentTables } from './helpers/sync-e2e.js';

/** Lines a non-terminal progress writes for `steps` updates of a run taking `msPerStep` each. */
function progressLines(total: number, msPerStep: number): Array<{ at: number; done: number }> {
  let now = 0;
  const out: Array<{ at: number; done: number }> = [];
  const log = createRunLog({ runId: 'r', stream: { write: (s: string) => out.push({ at: now, done: Number(/: (\d+)\//.exec(s)![1]) }) } });
  const p = sendingProgress(log, '1:2026', { stream: { isTTY: false, write: () => true }, now: () => now });
  for (let done = 1; done <= total; done++) {
    now += msPerStep;
    p.update(done, total);
  }
  p.stop();
  return out;
}

describe('progress of a run', function () {
  it('on a non-terminal: a line at most every 10 seconds and every 10%, and the last one', function () {
    for (const [total, ms] of [[1000, 10], [1000, 100], [1000, 1000], [50, 5000]] as const) {
      const lines = progressLines(total, ms);
      expect(lines[lines.length - 1]!.done, `${total} x ${ms} ms`).to.equal(total);
      for (let i = 1; i < lines.length; i++) {
        expect(lines[i]!.at - lines[i - 1]!.at, `${total} x ${ms} ms`).to.be.at.least(i === lines.length - 1 ? 0 : LOG_INTERVAL_MS);
        if (i < lines.length - 1) expect(lines[i]!.done - lines[i - 1]!.done).to.be.at.least(total / 10);
      }
      expect(lines.length).to.be.at.most(11);
    }
    // A quick run (10 s in all): one line, the last. A slow one: about one per tenth.
    expect(progressLines(1000, 10)).to.have.length(1);
    expect(progressLines(1000, 100).length).to.be.within(9, 11);
  });

  it('in the JSON log: progress events with the connection and the counts', function () {
    const out: string[] = [];
    let now = 0;
    const log = createRunLog({ runId: 'run-1', format: 'json', stream: { write: (s: string) => out.push(s) } });
    const p = sendingProgress(log, '2:2026', { now: () => now });
    for (let done = 1; done <= 20; done++) (now += 1000), p.update(done, 20);
    p.stop();
    const events = out.map((l) => JSON.parse(l) as { event: string; connection: string; counts: { done: number; total: number }; runId: string });
    expect(events.map((e) => e.counts.done)).to.deep.equal([10, 20]);
    expect(events.every((e) => e.event === 'progress' && e.connection === '2:2026' && e.runId === 'run-1')).to.equal(true);
  });

  it('on a terminal: a cli-progress bar redrawn in place', function () {
    const saved = process.env.CI;
    delete process.env.CI;
    const written: string[] = [];
    const tty = {
      isTTY: true, columns: 100,
      write: (s: string) => (written.push(s), true),
      cursorTo: () => true, clearLine: () => true, moveCursor: () => true,
      on: () => tty, removeListener: () => tty,
    };
    try {
      const p = sendingProgress(createRunLog({ runId: 'r', stream: { write: () => true } }), '1:2026', { stream: tty });
      for (let done = 1; done <= 5; done++) p.update(done, 5);
      p.stop();
    } finally {
      if (saved !== undefined) process.env.CI = saved;
    }
    expect(written.join('')).to.match(/sending 1:2026 \[[=-]+\] 5\/5 100%/);
  });
});

describe('plan summary', function () {
  it('"to send" leaves out the records held back', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'edfi-plan-summary-'));
    try {
      const tables = studentTables(students(5));
      for (const p of tables.Person!.slice(0, 2)) p.stateID = null;
      buildSnapshotFromFixture(loadFixture(fixtureYaml(tables, { allowOrphans: true })), join(dir, 's.sqlite'));
      const snapshot = openSnapshot(join(dir, 's.sqlite'));
      const state = emptyState();
      const plan = await buildPlan({ profile: coreProfile(), snapshot, state });
      snapshot.close();
      state.close();
      const text = planSummaryText(plan);
      expect(text).to.contain('connection 1:2026 (config 1, school year 2026): 5 candidate(s), 5 kept by the rules, 2 held back (not sent), 3 to send, 0 unchanged, 0 delete(s)');
      expect(text).to.match(/Operations to send:\n {2}POST +3\n/);
      expect(text).to.match(/Held back, not sent \(see the error log\):\n {2}core\.error\.required-field +2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the command line', function () {
  this.timeout(60_000);
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'edfi-cli-'));
    generateSnapshot({ students: 400, seed: 7, profile: 'core', out: join(dir, 'big.sqlite') });
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists every command with the description its module gives, and the exit codes', async function () {
    for (const c of COMMANDS) {
      const p = new Command();
      (await c.load())(p);
      expect(p.commands.map((x) => [x.name(), x.description()]), c.name).to.deep.equal([[c.name, c.description]]);
    }
    const help = await runCli(['--help']);
    expect(help.code).to.equal(EXIT.ok);
    for (const c of COMMANDS) expect(help.stdout).to.contain(`  ${c.name}`);
    expect(help.stdout).to.match(/Exit codes:\n {2}0 {3}ok/).and.to.match(/ {2}7 {3}heldBack/).and.to.match(/ {2}70 {2}internal/);
    const sync = await runCli(['help', 'sync']);
    expect(sync.stdout).to.contain('--summary-json <file>').and.to.contain('--held-back-ok').and.to.contain('Exit codes:');
    // The version for a job log: package.json's.
    const version = await runCli(['--version']);
    expect(version.code).to.equal(EXIT.ok);
    expect(version.stdout.trim()).to.equal((JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('plan --connection writes only those connections', async function () {
    const run = await runCli(['plan', '--profile', 'core', '--snapshot', join(dir, 'big.sqlite'), '--connection', '2:2026']);
    expect(run.code, run.stderr).to.equal(EXIT.ok);
    const ops = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { connection: string });
    expect(ops.length).to.be.greaterThan(10);
    expect(new Set(ops.map((o) => o.connection))).to.deep.equal(new Set(['2:2026']));
    expect(run.stderr).to.contain('connection 2:2026').and.not.to.contain('connection 1:2026');
  });

  it('`plan | head`: the reader going away ends the command quietly with 0', async function () {
    const child = spawn(process.execPath, [repoPath('bin', 'edfi-sync.js'), 'plan', '--profile', 'core', '--snapshot', join(dir, 'big.sqlite'), '--quiet'], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Read one chunk, then close the pipe as `head -1` does.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).to.equal('');
    expect(code).to.equal(EXIT.ok);
  });
});

describe('test-server command', function () {
  this.timeout(60_000);
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'edfi-test-server-'));
    buildSnapshotFromFixture(loadFixture(fixtureYaml(studentTables(students(3)))), join(dir, 'night1.sqlite'));
    buildSnapshotFromFixture(loadFixture(fixtureYaml(studentTables(students(4)))), join(dir, 'night2.sqlite'));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits non-zero without serving when --preload fails', async function () {
    const run = await runCli(['test-server', '--preload', join(dir, 'missing.sqlite')]);
    expect(run.code).to.equal(EXIT.input);
    expect(run.stdout).to.not.contain('listening');
    expect(run.stderr).to.contain('--preload failed, not started').and.to.contain('missing.sqlite');
  });

  it('a bad --port or --unresolved-reference-status is a usage error (exit 2), named, and nothing listens', async function () {
    for (const [args, text] of [
      [['--port', 'abc'], "--port must be a whole number from 0 (a free port) to 65535 (got 'abc')"],
      [['--port', '70000'], "(got '70000')"],
      [['--unresolved-reference-status', '500'], "--unresolved-reference-status must be 400 or 409 (got '500')"],
    ] as const) {
      const run = await runCli(['test-server', ...args]);
      expect(run.code, run.stderr).to.equal(EXIT.usage);
      expect(run.stderr).to.contain(text);
      expect(run.stdout).to.not.contain('listening');
    }
  });

  it('a port already in use is a usage error (exit 2) naming the port, not a crash', async function () {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      const run = await runCli(['test-server', '--port', String(port)]);
      expect(run.code, run.stderr).to.equal(EXIT.usage);
      expect(run.stderr).to.contain(`port ${port} on 127.0.0.1 is in use: give another --port, or --port 0 for a free one`);
      expect(run.stdout).to.not.contain('listening');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('prints the URL and the key and secret it accepts; several --preload snapshots add what first appears in each', async function () {
    const child = spawn(process.execPath, [repoPath('bin', 'edfi-sync.js'), 'test-server', '--preload', join(dir, 'night1.sqlite'), '--preload', join(dir, 'night2.sqlite')], {
      cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EDFI_CLIENT_ID: undefined, EDFI_CLIENT_SECRET: undefined } as NodeJS.ProcessEnv,
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => ((stdout += d.toString()), /accepts key/.test(stdout) && resolve())));
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1]!;
    expect(stdout).to.contain('accepts key demo-key and secret demo-secret');
    // Night 1: the LEA, 3 students and the programs they take; night 2 adds only its new student.
    expect(stderr).to.match(/preloaded \d+ LEA\/student\/program record\(s\) from .*night1\.sqlite\npreloaded 1 LEA\/student\/program record\(s\) from .*night2\.sqlite/);
    const token = await fetch(`${url}/oauth/token`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('demo-key:demo-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    const { access_token } = (await token.json()) as { access_token: string };
    const students4 = await fetch(`${url}/data/v3/ed-fi/students?limit=25`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(((await students4.json()) as unknown[]).length).to.equal(4);
    child.kill('SIGTERM');
    expect(await new Promise((resolve) => child.on('close', resolve))).to.equal(0);
  });
});
