// The ODS instance an identity row carries is one key whichever command wrote it: `plan` (no API: the instance
// the rows were sent to, else the data path), `sync`/`retry`/`resync`/`delete` (the data URL the API's root document
// gives), and state files of older versions (rows keyed by data path, or by nothing) are matched by it. A wrong key
// would make a run take another instance's records as sent (never sending them there) or miss its own (never
// deleting them). Real test servers over 127.0.0.1, real SQLite state files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { runDelete } from '../src/cli/commands/delete.js';
import { runPlan } from '../src/cli/commands/plan.js';
import { runResync } from '../src/cli/commands/resync.js';
import { runRetry } from '../src/cli/commands/retry.js';
import { instanceKeyFromDataPath } from '../src/cli/api-factory.js';
import { isApiKey, normalizeInstanceKey, sameInstance } from '../src/plan/instance-key.js';
import { instanceOf as targetInstanceOf } from '../src/targets/targets.js';
import { startTestServer, type TestServer } from '../src/testserver/server.js';
import { captureStderr, CLIENT_ID, CLIENT_SECRET, quiet, RESOURCE, sourceKey, studentTables, students, SyncHarness, writes } from './helpers/sync-e2e.js';

describe('ODS instance keys', function () {
  describe('normalizeInstanceKey / sameInstance', function () {
    it('gives one spelling per data URL: host and scheme case, default port, repeated and trailing slashes', function () {
      for (const k of ['http://127.0.0.1:8001/data/v3', 'HTTP://127.0.0.1:8001/data/v3/', 'http://127.0.0.1:8001//data//v3//', '  http://127.0.0.1:8001/data/v3 ']) {
        expect(normalizeInstanceKey(k), k).to.equal('http://127.0.0.1:8001/data/v3');
      }
      expect(normalizeInstanceKey('https://Ods.Example.org:443/api/data/v3/2026')).to.equal('https://ods.example.org/api/data/v3/2026');
      expect(normalizeInstanceKey('http://ods.example.org:80/data/v3')).to.equal('http://ods.example.org/data/v3');
      // The path keeps its case: a server may tell them apart.
      expect(normalizeInstanceKey('http://h/Data/v3')).to.not.equal(normalizeInstanceKey('http://h/data/v3'));
    });

    it('never keeps user information (a key is written to the state file)', function () {
      const k = normalizeInstanceKey('https://client:s3cr3t-Pa55@ods.example.org/data/v3/');
      expect(k).to.equal('https://ods.example.org/data/v3');
      expect(k).to.not.include('s3cr3t');
      expect(k).to.not.include('client');
      expect(sameInstance('https://client:s3cr3t-Pa55@ods.example.org/data/v3', 'https://ods.example.org/data/v3')).to.equal(true);
    });

    it('gives a data path one leading slash and no trailing one', function () {
      expect(normalizeInstanceKey('data/v3/2026/')).to.equal('/data/v3/2026');
      expect(normalizeInstanceKey('//data//v3')).to.equal('/data/v3');
      expect(isApiKey('/data/v3')).to.equal(false);
      expect(isApiKey('http://h/data/v3')).to.equal(true);
    });

    it('matches a data path an older version stored with the data URL whose path ends with it', function () {
      expect(sameInstance('/data/v3', 'http://127.0.0.1:8001/data/v3')).to.equal(true);
      expect(sameInstance('/data/v3/2026', 'https://ods.example.org/api/data/v3/2026')).to.equal(true);
      expect(sameInstance('http://127.0.0.1:8001/data/v3/', '/data/v3')).to.equal(true);
      // Another school year's instance, or a path that only shares a tail of a segment, is not the same.
      expect(sameInstance('/data/v3/2025', 'https://ods.example.org/api/data/v3/2026')).to.equal(false);
      expect(sameInstance('/v3', 'https://ods.example.org/data/v3')).to.equal(true);
      expect(sameInstance('/a/v3', 'https://ods.example.org/data/v3')).to.equal(false);
      expect(sameInstance('/ata/v3', 'https://ods.example.org/data/v3')).to.equal(false);
      expect(sameInstance('/', 'https://ods.example.org/data/v3')).to.equal(false);
    });

    it('the keys the targets file and a data path give are already in that one spelling (connections, --shard)', function () {
      // Two spellings of one URL in a targets file are one instance for `connections` and --shard grouping too.
      expect(targetInstanceOf({ apiRoot: 'HTTP://Ods.Example.org:80/', dataPath: '/data/v3/2026/' })).to.equal('http://ods.example.org/data/v3/2026');
      expect(targetInstanceOf({ apiRoot: 'https://user:pw@ods.example.org', dataPath: undefined })).to.equal('https://ods.example.org/data/v3');
      expect(instanceKeyFromDataPath('data/v3/{endYear}/', '1:2026')).to.equal('/data/v3/2026');
    });

    it('tells two hosts (or two ports) apart: different instances', function () {
      expect(sameInstance('http://ods-a.example.org/data/v3', 'http://ods-b.example.org/data/v3')).to.equal(false);
      expect(sameInstance('http://127.0.0.1:8001/data/v3', 'http://127.0.0.1:8002/data/v3')).to.equal(false);
      expect(sameInstance('/data/v3/2025', '/data/v3/2026')).to.equal(false);
    });
  });

  describe('end to end on one state file', function () {
    this.timeout(60_000);
    let h: SyncHarness;
    let other: TestServer | undefined;
    afterEach(async function () {
      await other?.close();
      other = undefined;
      await h?.close();
    });

    const dataUrl = (server: TestServer): string => normalizeInstanceKey(`${server.url}/data/v3`);
    const instances = (): string[] => [...new Set(h.identity().map((r) => String(r.instance)))].sort();
    const options = (): { profile: string; snapshot: string; state: string; apiBase: string; quiet: boolean; concurrency: number } => ({
      profile: h.profile, snapshot: h.snapshot, state: h.state, apiBase: h.server.url, quiet: true, concurrency: 2,
    });
    /** `plan` without API information, its operations read back from the file it wrote. */
    const plan = async (): Promise<Array<{ method: string; sourceKey: string; instance?: string }>> => {
      const out = join(h.dir, 'plan.jsonl');
      const { value } = await captureStderr(() => runPlan({ profile: h.profile, snapshot: h.snapshot, state: h.state, out, quiet: true }));
      expect(value, 'plan exit code').to.equal(0);
      return readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { method: string; sourceKey: string; instance?: string });
    };
    it('plan, sync, retry, plan, resync, delete and sync agree on the instance: nothing sent twice, nothing missed', async function () {
      h = await SyncHarness.start();
      h.world(studentTables(students(4)));
      await h.preload();
      const key = dataUrl(h.server);

      // A first plan, before anything was sent: every record is a POST.
      expect((await plan()).map((o) => o.method)).to.deep.equal(['POST', 'POST', 'POST', 'POST']);

      // The ODS fails every POST: the rows are written (no id yet) with the API's instance.
      h.server.faults.add({ kind: 'status', status: 500, times: Infinity, match: { method: 'POST', pathIncludes: RESOURCE } });
      expect((await h.sync({ concurrency: 1 })).code).to.equal(1);
      h.server.faults.clear();
      expect(h.store.count(RESOURCE)).to.equal(0);
      expect(instances()).to.deep.equal([key]);

      // retry sends each once and keeps the instance.
      const before = h.server.requests.length;
      expect(await quiet(() => runRetry(options()))).to.equal(0);
      expect(writes(h.server.requests.slice(before)).filter((r) => r.path.includes(RESOURCE)).map((r) => r.method)).to.deep.equal(['POST', 'POST', 'POST', 'POST']);
      expect(h.store.count(RESOURCE)).to.equal(4);
      expect(instances()).to.deep.equal([key]);
      expect(h.identity().every((r) => r.edfiId && r.lastOutcome === 'ok')).to.equal(true);

      // plan without API information takes the instance the rows were sent to: nothing to do.
      expect(await plan()).to.deep.equal([]);

      // resync finds the ODS as the state says: no change, same instance.
      const beforeResync = h.server.requests.length;
      expect(await quiet(() => runResync(options()))).to.equal(0);
      expect(writes(h.server.requests.slice(beforeResync))).to.deep.equal([]);
      expect(h.identity()).to.have.length(4);
      expect(instances()).to.deep.equal([key]);

      // delete removes one record from the ODS and the state; the next sync sends that one again, only it.
      expect(await quiet(() => runDelete({ profile: h.profile, state: h.state, apiBase: h.server.url, sourceKey: sourceKey(2) }))).to.equal(0);
      expect(h.store.count(RESOURCE)).to.equal(3);
      expect(h.identityOf(sourceKey(2))).to.equal(undefined);
      const again = await h.sync();
      expect(again.code).to.equal(0);
      expect(writes(again.requests).map((r) => r.method)).to.deep.equal(['POST']);
      expect(h.store.count(RESOURCE)).to.equal(4);
      expect(instances()).to.deep.equal([key]);
      expect(await plan()).to.deep.equal([]);
      expect(new Set(h.identity().map((r) => r.edfiId)).size).to.equal(4);
    });

    it('an older state file keyed by data path (or by nothing, or another spelling of the URL) is matched by an API run', async function () {
      h = await SyncHarness.start();
      h.world(studentTables(students(5)));
      await h.preload();
      expect((await h.sync()).code).to.equal(0);
      const key = dataUrl(h.server);
      const ids = new Map(h.identity().map((r) => [r.sourceKey, r.edfiId]));

      // As older versions wrote it: the data path given with --data-path, no instance, or the URL spelled otherwise.
      const db = new Database(h.state);
      const set = db.prepare('UPDATE identity_map SET instance = ? WHERE source_key = ?');
      set.run('/data/v3', sourceKey(1));
      set.run('/data/v3/', sourceKey(2));
      set.run(null, sourceKey(3));
      set.run(`${h.server.url.toUpperCase()}/data/v3/`, sourceKey(4));
      set.run('/data/v3', sourceKey(5));
      db.close();

      // Campus drops student 5: the run must know the old-keyed row as its own (DELETE it) and not send the others again.
      h.world(studentTables(students(4)));
      const run = await h.sync();
      expect(run.code).to.equal(0);
      expect(writes(run.requests).map((r) => `${r.method} ${r.path.split('/').pop() ?? ''}`)).to.deep.equal([`DELETE ${ids.get(sourceKey(5))}`]);
      expect(h.store.count(RESOURCE)).to.equal(4);
      expect(instances()).to.deep.equal([key]);
      for (const r of h.identity()) expect(r.edfiId, r.sourceKey).to.equal(ids.get(r.sourceKey));
      expect(await plan()).to.deep.equal([]);
    });

    it('two hosts are two instances: rows sent to one are not taken as sent to the other, and nothing is deleted', async function () {
      h = await SyncHarness.start();
      h.world(studentTables(students(3)));
      await h.preload();
      expect((await h.sync()).code).to.equal(0);
      const first = dataUrl(h.server);
      expect(instances()).to.deep.equal([first]);

      // The same state file, now sent to another ODS (another host:port, same data path).
      other = await startTestServer({ port: 0, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
      const { preloadFromSnapshot } = await import('../src/cli/commands/test-server.js');
      await preloadFromSnapshot(other, h.snapshot, [h.profile]);
      const from = other.requests.length;
      const run = await h.sync({ apiBase: other.url });
      expect(run.code).to.equal(0);
      expect(writes(other.requests.slice(from)).filter((r) => r.path.includes(RESOURCE)).map((r) => r.method)).to.deep.equal(['POST', 'POST', 'POST']);
      expect(other.store.count(RESOURCE)).to.equal(3);
      // The first ODS is neither written to nor emptied.
      expect(writes(run.requests)).to.deep.equal([]);
      expect(h.store.count(RESOURCE)).to.equal(3);
      expect(instances()).to.deep.equal([dataUrl(other)]);
      expect(first).to.not.equal(dataUrl(other));
      // No key the state file holds names a credential.
      for (const text of h.stateTexts()) expect(text).to.not.include(CLIENT_SECRET);
    });
  });
});
