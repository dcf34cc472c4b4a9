// The per-connection counts of identity rows (identity_instances), kept by triggers: the planner reads which
// instance a connection was sent to and how many records it has mapped from them instead of every identity row.
// They must equal a recount of identity_map after every kind of write, or a plan would group connections by the
// wrong instance and the mass-delete guard would count against the wrong total.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { IdentityMap, type IdentityRow } from '../src/state/identity-map.js';
import { MIGRATIONS, openState } from '../src/state/state-db.js';

const RESOURCE = 'studentCTEProgramAssociations';

function row(sourceKey: string, over: Partial<IdentityRow> = {}): IdentityRow {
  return {
    connection: '1:2026', resource: RESOURCE, sourceKey, student: '1', instance: 'http://ods/data/v3', edfiId: `id-${sourceKey}`,
    naturalKey: { k: sourceKey }, body: { k: sourceKey }, bodyHash: 'h', lastMethod: 'POST', lastStatus: 201, lastOutcome: 'ok', lastSentAt: null,
    ...over,
  };
}

function counts(db: Database.Database, from: 'identity_instances' | 'identity_map'): unknown[] {
  const sql = from === 'identity_instances'
    ? 'SELECT connection, resource, instance, rows, mapped FROM identity_instances ORDER BY 1, 2, 3'
    : `SELECT connection, resource, COALESCE(instance, char(0)) AS instance, COUNT(*) AS rows, SUM(edfi_id IS NOT NULL) AS mapped
       FROM identity_map GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`;
  return db.prepare(sql).all();
}

describe('identity_instances: per-connection counts kept by triggers', function () {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'edfi-instances-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('equal a recount after inserts, both paths of an upsert, id releases, instance changes and deletes', function () {
    const db = openState(join(dir, 'state.sqlite'));
    const identity = new IdentityMap(db);
    const same = (what: string): void => {
      expect(counts(db, 'identity_instances'), what).to.deep.equal(counts(db, 'identity_map'));
    };
    identity.upsert(row('a'));
    identity.upsert(row('b'));
    identity.upsert(row('c', { connection: '2:2026' }));
    identity.upsert(row('d', { instance: null, edfiId: null }));
    same('after inserts');
    expect(identity.instanceOfConnection('1:2026', RESOURCE)).to.equal('http://ods/data/v3');
    expect(identity.countMapped('1:2026', RESOURCE)).to.equal(2);
    // The upsert's update path: the same record, now without an id (a failed POST), then with one again.
    identity.upsert(row('a', { edfiId: null, lastOutcome: 'error' }));
    same('after an upsert that drops the id');
    expect(identity.countMapped('1:2026', RESOURCE)).to.equal(1);
    identity.upsert(row('a'));
    identity.releaseId('http://ods/data/v3', RESOURCE, 'id-b', { connection: 'x', sourceKey: 'y' });
    same('after a release');
    expect(identity.countMapped('1:2026', RESOURCE)).to.equal(1);
    // Rows moved to another spelling of the instance, then one row to another instance: two instances, no answer.
    db.prepare("UPDATE identity_map SET instance = 'http://ods/data/v3/' WHERE connection = '1:2026'").run();
    same('after an instance change');
    db.prepare("UPDATE identity_map SET instance = 'http://other/data/v3' WHERE source_key = 'a'").run();
    same('after a row moved to another instance');
    expect(identity.instanceOfConnection('1:2026', RESOURCE)).to.equal(undefined);
    db.prepare("DELETE FROM identity_map WHERE source_key = 'a'").run();
    same('after a delete');
    // Keys are normalized (no trailing slash).
    expect(identity.instanceOfConnection('1:2026', RESOURCE)).to.equal('http://ods/data/v3');
    db.prepare('DELETE FROM identity_map').run();
    same('after deleting every row');
    expect(db.prepare('SELECT COUNT(*) AS n FROM identity_instances').get()).to.deep.equal({ n: 0 });
    expect(identity.instanceOfConnection('1:2026', RESOURCE)).to.equal(undefined);
    expect(identity.countMapped('1:2026', RESOURCE)).to.equal(0);
    db.close();
  });

  it('a state file written before the counts were kept gets them from its identity rows', function () {
    const file = join(dir, 'old.sqlite');
    const before = MIGRATIONS.findIndex((m) => m.name === 'identity-instances');
    expect(before, 'the migration is in the list').to.be.greaterThan(0);
    // Every migration before this one, then rows written the old way.
    const old = new Database(file);
    old.exec('CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
    for (const m of MIGRATIONS.slice(0, before)) {
      if (m.sql) old.exec(m.sql);
      m.run?.(old);
      old.prepare("INSERT INTO migrations VALUES (?, '2026-01-01')").run(m.name);
    }
    const insert = old.prepare(`INSERT INTO identity_map (connection, resource, source_key, student, instance, edfi_id, natural_key, nk_hash, body, body_hash)
      VALUES (?, ?, ?, '1', ?, ?, '{}', ?, '{}', 'h')`);
    insert.run('1:2026', RESOURCE, 'a', 'http://ods/data/v3', 'id-a', 'k1');
    insert.run('1:2026', RESOURCE, 'b', null, null, 'k2');
    insert.run('2:2026', RESOURCE, 'c', '/data/v3', 'id-c', 'k3');
    old.close();

    const db = openState(file);
    expect(counts(db, 'identity_instances')).to.deep.equal(counts(db, 'identity_map'));
    const identity = new IdentityMap(db);
    expect(identity.instanceOfConnection('1:2026', RESOURCE)).to.equal('http://ods/data/v3');
    expect(identity.instanceOfConnection('2:2026', RESOURCE)).to.equal('/data/v3');
    expect(identity.countMapped('1:2026', RESOURCE)).to.equal(1);
    // Adopting the unkeyed row into the connection's instance moves its count.
    identity.adoptIntoInstance(RESOURCE, 'http://ods/data/v3', ['1:2026']);
    expect(counts(db, 'identity_instances')).to.deep.equal(counts(db, 'identity_map'));
    expect(db.prepare("SELECT rows FROM identity_instances WHERE connection = '1:2026'").all()).to.deep.equal([{ rows: 2 }]);
    db.close();
  });
});
