// `plan` without API information guesses each connection's ODS instance from the identity rows. A connection of an
// ODS shared between school years whose every record is sent as the later year's (shared) has no rows of its own:
// it is taken to be in the instance the other rows name when its data path does, so `plan` shows what `sync`
// sends (nothing), not POSTs of records the later year already holds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { runPlan } from '../src/cli/commands/plan.js';
import { captureStderr, stateID, SyncHarness, writes } from './helpers/sync-e2e.js';

describe('plan without API information on an ODS shared between school years', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async () => h?.close());

  it('a year whose records are all shared with the later year plans nothing, as sync sends nothing', async function () {
    h = await SyncHarness.start();
    const people = [80, 81];
    h.world({
      SchoolYear: [{ endYear: 2025, label: '2024-25', startDate: '2024-07-01', endDate: '2025-06-30' }],
      Calendar: [{ calendarID: 9, schoolID: 1, endYear: 2025, name: '2024-25 Standard High School' }],
      EdFiConfiguration: [{ configID: 2, districtID: 1, endYear: 2025, profile: 'core', apiBase: 'https://edfi.example.org/api' }],
      Person: people.map((p) => ({ personID: p, stateID: stateID(p), lastName: `Student${p}`, firstName: 'Test' })),
      // Enrolled in both years; one program record running across both: one ODS record, sent as 2025-26's.
      Enrollment: people.flatMap((p) => [
        { enrollmentID: p * 10, personID: p, calendarID: 9, startDate: '2024-08-20', endDate: '2025-05-30' },
        { enrollmentID: p * 10 + 1, personID: p, calendarID: 1, startDate: '2025-08-20', endDate: null },
      ]),
      ProgramParticipation: people.map((p) => ({ participationID: 1000 + p, personID: p, programID: 1, startDate: '2024-09-01' })),
    });
    const db = new Database(h.snapshot);
    db.exec('INSERT INTO EdFiResourcePreference SELECT 2, resource, element, campusValue, edfiCode FROM EdFiResourcePreference WHERE configID = 1');
    db.close();
    await h.preload();
    const first = await h.sync();
    expect(first.code, first.stderr).to.equal(0);
    expect(writes(first.requests).map((r) => r.method)).to.deep.equal(['POST', 'POST']);
    expect(h.identity().map((r) => r.connection)).to.deep.equal(['1:2026', '1:2026']);

    expect(writes((await h.sync()).requests), 'sync: nothing more to send').to.deep.equal([]);
    const out = join(h.dir, 'plan.jsonl');
    const { value } = await captureStderr(() => runPlan({ profile: h.profile, snapshot: h.snapshot, state: h.state, out, quiet: true }));
    expect(value).to.equal(0);
    const ops = readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { method: string; connection: string; sourceKey: string });
    expect(ops.map((o) => `${o.method} ${o.connection} ${o.sourceKey}`), 'plan: nothing, as sync').to.deep.equal([]);
  });
});
