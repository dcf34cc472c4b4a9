import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { runResync } from '../src/cli/commands/resync.js';
import { runSync } from '../src/cli/commands/sync.js';
import { preloadFromSnapshot } from '../src/cli/commands/test-server.js';
import { htmlReport } from '../src/report/html-report.js';
import { buildSnapshotFromFixture, loadFixture } from '../src/snapshot/fixture.js';
import { finishRun, startRun } from '../src/state/runs.js';
import { openState } from '../src/state/state-db.js';
import type { TestServer } from '../src/testserver/server.js';
import { useServerWorld } from './helpers/server-world.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

describe('report --html', function () {
  const w = useServerWorld('all', 'report', 'report-key', 'report-secret-value');
  let dir: string;
  let server: TestServer;

  before(async function () {
    ({ dir, server } = w);
    buildSnapshotFromFixture(loadFixture(`
base: standard
profile: core
tables:
  Person:
    - { personID: 10, stateID: '1000000010' }
    - { personID: 11, stateID: '1000000011' }
    - { personID: 12, stateID: null }
    - { personID: 13, stateID: '1000000013' }
  Enrollment:
    - { enrollmentID: 100, personID: 10, calendarID: 1, startDate: '2025-08-20' }
    - { enrollmentID: 101, personID: 11, calendarID: 1, startDate: '2025-08-20', noShow: 1 }
    - { enrollmentID: 102, personID: 12, calendarID: 1, startDate: '2025-08-20' }
    - { enrollmentID: 103, personID: 13, calendarID: 1, startDate: '2025-08-20' }
  ProgramParticipation:
    - { participationID: 1000, personID: 10, programID: 1, startDate: '2025-08-25' }
    - { participationID: 1001, personID: 11, programID: 1, startDate: '2025-08-25' }
    - { participationID: 1002, personID: 12, programID: 1, startDate: '2025-08-25' }
    - { participationID: 1003, personID: 13, programID: 2, startDate: '2025-08-25' }
`), join(dir, 'snap.sqlite'));
    await preloadFromSnapshot(server, join(dir, 'snap.sqlite'), ['core']);
    // Student 13's record fails at the API: the student is missing from the ODS.
    const id = server.store.findId('students', { studentUniqueId: '1000000013' });
    if (id) server.store.delete('students', id);
    const code = await runSync({ profile: 'core', snapshot: join(dir, 'snap.sqlite'), state: join(dir, 'state.sqlite'), apiBase: server.url, dataPath: '/data/v3', concurrency: 2, quiet: true });
    expect(code).to.equal(1);
  });

  it('holds the counts, a chart, the error log with the spec fixes and the excluded records by reason', function () {
    const db = openState(join(dir, 'state.sqlite'));
    const html = htmlReport(db);
    db.close();
    expect(html).to.contain('<svg').and.to.contain('Operations sent');
    expect(html).to.match(/<b>1<\/b>Sent \(new\)/);
    expect(html).to.match(/<b>1<\/b>Failed/);
    expect(html).to.contain('core.error.unresolved-reference').and.to.contain('Resync the resource being mentioned in the error');
    expect(html).to.contain('core.error.required-field');
    expect(html).to.contain('enrollment is marked No Show');
    expect(html).to.not.contain('report-secret-value');
    expect(html).to.not.match(/<script/i);
  });

  it('says per connection how it ended, and for a refused one why and what to do', function () {
    const db = openState(join(dir, 'state.sqlite'));
    const html = htmlReport(db);
    const refusedRun = startRun(db, 'sync', 'core', 'snap.sqlite', null, ['1:2026']);
    finishRun(db, refusedRun, 'refused', {
      plan: null, emit: null,
      connections: [{ connection: '1:2026', exitReason: 'refused', message: 'connection 1:2026: 12 delete(s) of 4 mapped record(s); the limit is 5', fix: 'Check the snapshot. If the deletes are intended, run again with --allow-mass-delete', counts: { heldBack: 1 } }],
    });
    const refused = htmlReport(db, refusedRun);
    db.close();
    expect(html).to.contain('<h2>Connections</h2>').and.to.match(/1:2026<\/td><td><span class="status failed">apiFailed/);
    expect(refused).to.contain('12 delete(s) of 4 mapped record(s); the limit is 5').and.to.contain('<b>Fix:</b> Check the snapshot.');
  });

  it('renders in headless Chromium', function () {
    if (!CHROMIUM) {
      // The CI script installs Debian's chromium; a developer machine without it skips this one check.
      this.skip();
    }
    const db = openState(join(dir, 'state.sqlite'));
    writeFileSync(join(dir, 'report.html'), htmlReport(db));
    db.close();
    const png = join(dir, 'report.png');
    const r = spawnSync(CHROMIUM!, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${join(dir, 'chrome')}`, `--screenshot=${png}`, '--window-size=1200,1400',
      `file://${join(dir, 'report.html')}`], { encoding: 'utf8', timeout: 60_000 });
    expect(existsSync(png), r.stderr).to.equal(true);
    const bytes = readFileSync(png);
    expect(bytes.subarray(1, 4).toString()).to.equal('PNG');
    // A blank page compresses to a few kilobytes; the report's text, tables and chart do not.
    expect(statSync(png).size).to.be.greaterThan(30_000);
  });

  it('by default shows the last run that planned and sent: the sync that ends a resync too', async function () {
    const code = await runResync({ profile: 'core', snapshot: join(dir, 'snap.sqlite'), state: join(dir, 'state.sqlite'), apiBase: server.url, dataPath: '/data/v3', concurrency: 2, quiet: true });
    expect(code).to.be.oneOf([1, 7]);
    const db = openState(join(dir, 'state.sqlite'));
    const html = htmlReport(db);
    const last = (db.prepare("SELECT MAX(run_id) AS id FROM runs WHERE command = 'resync'").get() as { id: number }).id;
    db.close();
    expect(html).to.contain(`<h1>Ed-Fi sync: run ${last} `).and.to.match(/<p class="muted">resync · profile core/);
  });
});
