// `edfi-sync delete --id`: Ed-Fi ids are unique within one ODS, not across them (an ODS copied for a new school
// year keeps its ids). The id is deleted in the ODS instance of the connection the operator named, and every
// identity row mapping it there is removed (whichever connection of that ODS it is of), none elsewhere; an id
// mapped in two instances is refused without --connection, and nothing is deleted.
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { runDelete, type DeleteOptions } from '../src/cli/commands/delete.js';
import { EXIT } from '../src/cli/exit-codes.js';
import type { IdentityRow } from '../src/state/identity-map.js';
import { captureStderr, captureStdout, quiet, RESOURCE, sourceKey, studentTables, students, SyncHarness, writes } from './helpers/sync-e2e.js';

/** Three students synced; the harness and the identity row of the second. */
async function threeSynced(): Promise<{ h: SyncHarness; row: IdentityRow }> {
  const h = await SyncHarness.start();
  h.world(studentTables(students(3)));
  await h.preload();
  expect((await h.sync()).code).to.equal(0);
  return { h, row: h.identityOf(sourceKey(2))! };
}

describe('edfi-sync delete', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async () => h?.close());

  async function synced(): Promise<IdentityRow> {
    const r = await threeSynced();
    h = r.h;
    return r.row;
  }

  it('--dry-run lists what would be deleted and changes nothing; a real delete says the next sync sends a wanted record again', async function () {
    const row = await synced();
    const before = h.server.requests.length;
    const { value: code, text } = await captureStdout(() => runDelete({ profile: 'core', state: h.state, student: row.student!, dryRun: true }));
    expect(code).to.equal(EXIT.ok);
    expect(text).to.contain(`would delete /ed-fi/studentCTEProgramAssociations/${row.edfiId} [${sourceKey(2)}]`).and.contain('sent again by the next sync').and.contain('nothing was deleted');
    expect(h.server.requests.length, 'no request').to.equal(before);
    expect(h.identityOf(sourceKey(2))?.edfiId).to.equal(row.edfiId);
  });

  describe('delete --id picks the record of the connection named, never another ODS\'s record with the same id', function () {

    /** A synced district, then a row of another connection (another ODS) mapping the same Ed-Fi id, sorting first. */
    async function twoHolders(): Promise<{ id: string; connection: string }> {
      const own = await synced();
      const db = new Database(h.state);
      db.prepare(`INSERT INTO identity_map (connection, resource, source_key, student, instance, edfi_id, natural_key, nk_hash, body, body_hash, last_outcome)
        SELECT '0:2026', resource, source_key, student, 'http://copied-ods.example.org/data/v3', edfi_id, natural_key, nk_hash, body, body_hash, last_outcome
        FROM identity_map WHERE source_key = ?`).run(sourceKey(2));
      db.close();
      return { id: own.edfiId!, connection: own.connection };
    }

    it('with --connection: deletes that connection\'s record and row, and keeps the other connection\'s row', async function () {
      const { id, connection } = await twoHolders();
      expect(connection).to.not.equal('0:2026');
      const before = h.server.requests.length;
      expect(await quiet(() => runDelete({ profile: h.profile, state: h.state, apiBase: h.server.url, id: [id], connection: [connection] }))).to.equal(EXIT.ok);
      expect(writes(h.server.requests.slice(before)).map((r) => `${r.method} ${r.path.split('/').pop()}`)).to.deep.equal([`DELETE ${id}`]);
      const rows = h.identity().filter((r) => r.edfiId === id);
      expect(rows.map((r) => r.connection), 'the other ODS\'s row stays').to.deep.equal(['0:2026']);
      expect(h.identity().some((r) => r.connection === connection && r.sourceKey === sourceKey(2)), 'the named connection\'s row is gone').to.equal(false);
      expect(h.store.count(RESOURCE)).to.equal(2);
    });

    it('with --connection: a record of another connection of the same ODS is deleted with its row, so it is sent again if wanted', async function () {
      const own = await synced();
      // Connections that share one ODS: the record is mapped by another connection's row, in the same instance.
      const db = new Database(h.state);
      db.prepare("UPDATE identity_map SET connection = '0:2026' WHERE source_key = ?").run(sourceKey(2));
      db.close();
      expect(await quiet(() => runDelete({ profile: h.profile, state: h.state, apiBase: h.server.url, id: [own.edfiId!], connection: [own.connection] }))).to.equal(EXIT.ok);
      expect(h.store.count(RESOURCE)).to.equal(2);
      expect(h.identity().filter((r) => r.edfiId === own.edfiId), 'no row still says the deleted record is in the ODS').to.deep.equal([]);
    });

    it('without --connection: an id mapped in two ODS instances is refused (exit 2), and nothing is deleted', async function () {
      const { id } = await twoHolders();
      const before = h.server.requests.length;
      let code: number | undefined;
      let message = '';
      try {
        code = await quiet(() => runDelete({ profile: h.profile, state: h.state, apiBase: h.server.url, id: [id] }));
      } catch (err) {
        code = (err as { exitCode?: number }).exitCode;
        message = (err as Error).message;
      }
      expect(code).to.equal(EXIT.usage);
      expect(message).to.include('give --connection');
      expect(writes(h.server.requests.slice(before))).to.deep.equal([]);
      expect(h.identity().filter((r) => r.edfiId === id)).to.have.length(2);
      expect(h.store.count(RESOURCE)).to.equal(3);
    });
  });

  // The rows the command read before it took its locks may change before it holds them (a run of another connection
  // finishing meanwhile): the command reads them again under the locks. Its first read is synchronous, before the
  // first request to the API, so a change made right after the call starts lands in that gap.
  describe('delete reads its records again once it holds the locks', function () {

    /** Starts the command, makes the change in the gap, and waits for the command (even when the change throws). */
    async function withChangeInTheGap(o: Omit<DeleteOptions, 'profile' | 'state' | 'apiBase'>, change: () => void): Promise<{ code?: number; message: string }> {
      // The message is the refusal's, or what the command wrote to stderr.
      const running = quiet(() => captureStderr(() => runDelete({ profile: h.profile, state: h.state, apiBase: h.server.url, ...o })))
        .then(({ value, text }) => ({ code: value, message: text }), (err: Error & { exitCode?: number }) => ({ code: err.exitCode, message: err.message }));
      try {
        change();
      } finally {
        await running;
      }
      return running;
    }

    it('--id: the rows mapping the id are read once the API names the instance: a connection that took the record over meanwhile is locked and its row removed', async function () {
      const own = await synced();
      const before = h.server.requests.length;
      // In the gap: another connection of the same ODS took the record over.
      const r = await withChangeInTheGap({ id: [own.edfiId!], connection: [own.connection] }, () => {
        const db = new Database(h.state);
        db.prepare("UPDATE identity_map SET connection = '0:2026' WHERE source_key = ?").run(sourceKey(2));
        db.close();
      });
      expect(r.code, r.message).to.equal(EXIT.ok);
      expect(writes(h.server.requests.slice(before)).map((x) => `${x.method} ${x.path.split('/').pop()}`)).to.deep.equal([`DELETE ${own.edfiId}`]);
      expect(h.identity().filter((x) => x.edfiId === own.edfiId), 'no row still says the deleted record is in the ODS').to.deep.equal([]);
      expect(h.store.count(RESOURCE)).to.equal(2);
    });

    it('--source-key: the record was sent again meanwhile (a new Ed-Fi id): the new record is deleted, not the old id', async function () {
      const own = await synced();
      const before = h.server.requests.length;
      let newId = '';
      // In the gap: a run deleted the ODS record and posted it again, and its row now maps the new id.
      const r = await withChangeInTheGap({ sourceKey: sourceKey(2), connection: [own.connection] }, () => {
        const body = h.store.get(RESOURCE, own.edfiId!)!.body;
        expect(h.store.delete(RESOURCE, own.edfiId!, { skipAuthorization: true }).ok).to.equal(true);
        const posted = h.store.post(RESOURCE, body, { skipAuthorization: true });
        if (!posted.ok) throw new Error(`re-post failed: ${JSON.stringify(posted)}`);
        newId = posted.id;
        const db = new Database(h.state);
        db.prepare('UPDATE identity_map SET edfi_id = ? WHERE source_key = ?').run(newId, sourceKey(2));
        db.close();
      });
      expect(r.code, r.message).to.equal(EXIT.ok);
      expect(writes(h.server.requests.slice(before)).map((x) => `${x.method} ${x.path.split('/').pop()}`)).to.deep.equal([`DELETE ${newId}`]);
      expect(h.store.get(RESOURCE, newId), 'the record the row maps now is gone').to.equal(undefined);
      expect(h.store.count(RESOURCE)).to.equal(2);
      expect(h.identityOf(sourceKey(2))).to.equal(undefined);
    });
    it('--source-key: the row moved to a connection the command did not lock: refused (exit 5, run it again), nothing deleted', async function () {
      const own = await synced();
      const before = h.server.requests.length;
      // In the gap: another connection of the same ODS took the record over (no --connection: any connection's row matches).
      const r = await withChangeInTheGap({ sourceKey: sourceKey(2) }, () => {
        const db = new Database(h.state);
        db.prepare("UPDATE identity_map SET connection = '0:2026' WHERE source_key = ?").run(sourceKey(2));
        db.close();
      });
      expect(r.code).to.equal(5);
      expect(r.message).to.include('run it again');
      expect(writes(h.server.requests.slice(before))).to.deep.equal([]);
      expect(h.identity().filter((x) => x.edfiId === own.edfiId).map((x) => x.connection)).to.deep.equal(['0:2026']);
      expect(h.store.count(RESOURCE)).to.equal(3);
    });

    it('--source-key: the row was removed meanwhile (a run deleted the record): nothing is sent, exit 0', async function () {
      const own = await synced();
      const before = h.server.requests.length;
      const r = await withChangeInTheGap({ sourceKey: sourceKey(2), connection: [own.connection] }, () => {
        const db = new Database(h.state);
        db.prepare('DELETE FROM identity_map WHERE source_key = ?').run(sourceKey(2));
        db.close();
      });
      expect(r.code, r.message).to.equal(EXIT.ok);
      expect(r.message).to.include('Nothing to delete');
      expect(writes(h.server.requests.slice(before))).to.deep.equal([]);
      expect(h.store.count(RESOURCE)).to.equal(3);
    });
  });
});
