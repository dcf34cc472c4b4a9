// The run lock under the schedulers agencies use: containers where every job is pid 1 (often on one host name), pods
// evicted on another host, and the operator's way out.
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { expect } from 'chai';
import { unlock } from '../src/cli/commands/unlock.js';
import { EXIT } from '../src/cli/exit-codes.js';
import { acquireLocks, LockedError, staleAfterMs, type LockRow } from '../src/state/lock.js';
import { listRuns, startRun } from '../src/state/runs.js';
import { openState } from '../src/state/state-db.js';
import { SyncHarness } from './helpers/sync-e2e.js';

const LOCK = 'connection:1:2026';

function insertLock(db: Database.Database, row: { pid: number; host: string; token: string | null; aliveMinutesAgo: number; pidNs?: string | null; name?: string }): void {
  const at = new Date(Date.now() - row.aliveMinutesAgo * 60_000).toISOString();
  db.prepare('INSERT INTO lock (name, pid, host, started_at, token, heartbeat_at, pid_ns) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(row.name ?? LOCK, row.pid, row.host, at, row.token, row.token ? at : null, row.pidNs ?? null);
}

function ownPidNamespace(): string | null {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
}

describe('run locks', function () {
  let dir: string;
  let db: Database.Database;
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'edfi-locks-'));
    db = openState(join(dir, 'state.sqlite'));
  });
  afterEach(function () {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a lock of another process with this process's pid (another container's pid 1 on this host name) is not taken for this one's", function () {
    insertLock(db, { pid: process.pid, host: hostname(), token: 'another-container', aliveMinutesAgo: 0 });
    expect(() => acquireLocks(db, [LOCK])).to.throw(LockedError, /another run \(pid \d+ on .*\) holds the lock of connection 1:2026/);
  });

  it('on this host name, a pid is asked only in its own pid namespace: a fresh heartbeat from another namespace keeps the lock', function () {
    // A live job of another container with host networking: its pid means nothing here.
    insertLock(db, { pid: 4_000_000, host: hostname(), token: 'other-container', aliveMinutesAgo: 0, pidNs: 'pid:[1]' });
    expect(() => acquireLocks(db, [LOCK])).to.throw(LockedError);
    db.prepare('DELETE FROM lock').run();
    // Killed in this namespace (the pid is gone): taken over at once.
    const ns = ownPidNamespace();
    if (ns === null) this.skip();
    insertLock(db, { pid: 4_000_000, host: hostname(), token: 'killed-here', aliveMinutesAgo: 0, pidNs: ns });
    const taken: LockRow[] = [];
    acquireLocks(db, [LOCK], (r) => taken.push(r))();
    expect(taken.map((r) => r.token)).to.deep.equal(['killed-here']);
  });

  it("another connection's abandoned lock is not this run's to end", function () {
    insertLock(db, { pid: 1, host: 'edfi-sync-core-7f9c', token: 'pod', aliveMinutesAgo: 45, name: 'connection:2:2026' });
    const taken: LockRow[] = [];
    const release = acquireLocks(db, [LOCK], (r) => taken.push(r));
    expect(taken).to.deep.equal([]);
    expect((db.prepare('SELECT name FROM lock ORDER BY name').all() as Array<{ name: string }>).map((r) => r.name)).to.deep.equal([LOCK, 'connection:2:2026']);
    release();
  });

  it('a lock of another host is kept while its holder says it is alive, and taken over once it has been silent too long', function () {
    insertLock(db, { pid: 1, host: 'edfi-sync-core-7f9c', token: 'pod', aliveMinutesAgo: 5 });
    expect(() => acquireLocks(db, [LOCK])).to.throw(LockedError, /edfi-sync unlock/);
    db.prepare('DELETE FROM lock').run();
    insertLock(db, { pid: 1, host: 'edfi-sync-core-7f9c', token: 'pod', aliveMinutesAgo: 31 });
    const taken: LockRow[] = [];
    const release = acquireLocks(db, [LOCK], (r) => taken.push(r));
    expect(taken.map((r) => r.host)).to.deep.equal(['edfi-sync-core-7f9c']);
    const rows = db.prepare('SELECT host, token FROM lock').all() as Array<{ host: string; token: string }>;
    expect(rows.map((r) => r.host)).to.deep.equal([hostname()]);
    release();
    expect(db.prepare('SELECT COUNT(*) AS n FROM lock').get()).to.deep.equal({ n: 0 });
  });

  it('the stale time is 30 minutes unless EDFI_SYNC_STALE_LOCK_MINUTES says otherwise', function () {
    expect(staleAfterMs({})).to.equal(30 * 60_000);
    expect(staleAfterMs({ EDFI_SYNC_STALE_LOCK_MINUTES: '90' })).to.equal(90 * 60_000);
    expect(staleAfterMs({ EDFI_SYNC_STALE_LOCK_MINUTES: 'soon' })).to.equal(30 * 60_000);
  });

  it('unlock ends a lock of a run that is gone, keeps one that looks alive unless --force, and marks the run interrupted', function () {
    const lines: string[] = [];
    insertLock(db, { pid: 1, host: 'edfi-sync-core-7f9c', token: 'pod', aliveMinutesAgo: 2 });
    const run = startRun(db, 'sync', 'core', 'snap.sqlite', 'uid', ['1:2026']);
    const path = join(dir, 'state.sqlite');
    expect(unlock({ state: path, connection: ['1:2026'] }, (l) => lines.push(l))).to.equal(EXIT.refused);
    expect(lines.join('\n')).to.contain('kept: connection 1:2026').and.contain('--force');
    expect(unlock({ state: path, connection: ['1:2026'], force: true }, (l) => lines.push(l))).to.equal(EXIT.ok);
    expect(lines.join('\n')).to.contain(`ended: connection 1:2026, held by pid 1 on edfi-sync-core-7f9c`).and.contain(`run ${run} marked interrupted`).and.contain('edfi-sync resync');
    expect(db.prepare('SELECT COUNT(*) AS n FROM lock').get()).to.deep.equal({ n: 0 });
    expect(listRuns(db).find((r) => r.run_id === run)?.status).to.equal('interrupted');
    expect(() => unlock({ state: path }, () => undefined)).to.throw(/--connection KEY .* or --all/);
  });
});

describe('a sync that takes over the lock of a run that stopped without finishing', function () {
  let h: SyncHarness;
  afterEach(async () => h?.close());

  it('says so, marks that run interrupted, names resync, and sends', async function () {
    h = await SyncHarness.start();
    h.world({});
    await h.preload();
    const db = openState(h.state);
    insertLock(db, { pid: 1, host: 'edfi-sync-core-7f9c', token: 'pod', aliveMinutesAgo: 45 });
    const dead = startRun(db, 'sync', 'core', h.snapshot, 'uid-dead', ['1:2026']);
    db.close();
    const r = await h.sync();
    expect(r.code, r.stderr).to.equal(EXIT.ok);
    expect(r.stderr).to.contain('connection 1:2026: took over the lock of a run that stopped without finishing (pid 1 on edfi-sync-core-7f9c')
      .and.contain(`run ${dead} marked interrupted`).and.contain('edfi-sync resync --connection 1:2026');
    const check = openState(h.state);
    expect(listRuns(check).find((x) => x.run_id === dead)?.status).to.equal('interrupted');
    check.close();
  });
});
