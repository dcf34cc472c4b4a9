// Fan-out: a scheduler lists the connections and runs one job per connection, side by side. Parallel processes
// (`node bin/edfi-sync.js sync --connection K`), on one shared state file, on one state file per connection, or in
// shards, must leave exactly the ODS and the identity mapping of one all-connections run.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { preloadFromSnapshot } from '../src/cli/commands/test-server.js';
import { EXIT } from '../src/cli/exit-codes.js';
import type { RunSummary } from '../src/cli/run-summary.js';
import { generateSnapshot } from '../src/snapshot/generate.js';
import { ErrorLog } from '../src/state/error-log.js';
import { IdentityMap } from '../src/state/identity-map.js';
import { openState } from '../src/state/state-db.js';
import { startTestServer, type TestServer } from '../src/testserver/server.js';
import { canonicalJson } from '../src/util/hash.js';
import type { JsonObject } from '../src/types.js';
import { runCli, type CliRun } from './helpers/cli.js';
import { keyText, naturalKeyOfBody, RESOURCE } from './helpers/sync-e2e.js';

const YEAR_PATH = '/data/v3/{endYear}';
const YEARS = [2025, 2026];
const KEY = 'fan-out-key';
const SECRET = 'fan-out-Secret-5d1c2e77';
const ENV = { EDFI_CLIENT_ID: KEY, EDFI_CLIENT_SECRET: SECRET };

interface World {
  server: TestServer;
  state: string;
}

/** What a run leaves behind, comparable between two servers (ids differ, everything else must not). */
interface Outcome {
  /** Per school-year instance: the stored bodies. */
  ods: Record<string, string[]>;
  /** connection, source key, body hash, natural key, last outcome; and that its Ed-Fi id is the stored record with that key. */
  identity: string[];
  /** Open error-log entries: connection, record, catalogue entry, held back or not. */
  openErrors: string[];
}

function stateFiles(state: string): string[] {
  if (!state.includes('{connection}')) return [state];
  const dir = state.slice(0, state.lastIndexOf('/'));
  return readdirSync(dir).filter((f) => f.endsWith('.sqlite')).map((f) => join(dir, f));
}

/** Where a connection's records are: its school year's instance, unless the world says otherwise. */
type InstanceOf = (connection: string) => string;
const byYear: InstanceOf = (connection) => `/data/v3/${connection.split(':')[1]}`;

function outcomeOf(w: World, instanceOf: InstanceOf = byYear, connections: string[] = []): Outcome {
  const ods: Record<string, string[]> = {};
  for (const y of YEARS) {
    const prefixes = new Set([byYear(`0:${y}`), ...connections.filter((c) => c.endsWith(`:${y}`)).map(instanceOf)]);
    ods[y] = [...prefixes].flatMap((p) => w.server.instance(p).list(RESOURCE).map((i) => canonicalJson(i.body))).sort();
  }
  const identity: string[] = [];
  const openErrors: string[] = [];
  for (const file of stateFiles(w.state)) {
    const db = new Database(file, { readonly: true });
    try {
      for (const r of new IdentityMap(db).find({ resource: RESOURCE })) {
        const store = w.server.instance(instanceOf(r.connection));
        const stored = r.edfiId ? store.get(RESOURCE, r.edfiId) : undefined;
        const sameRecord = stored !== undefined && keyText(naturalKeyOfBody(stored.body)) === keyText(r.naturalKey);
        identity.push(JSON.stringify([r.connection, r.sourceKey, r.bodyHash, keyText(r.naturalKey), r.lastOutcome, sameRecord]));
      }
      for (const e of new ErrorLog(db).list({ state: 'open' })) {
        openErrors.push(JSON.stringify([e.connection, e.sourceKey, e.catalogueId, e.heldBack, e.count]));
      }
    } finally {
      db.close();
    }
  }
  return { ods, identity: identity.sort(), openErrors: openErrors.sort() };
}

describe('fan-out: one job per connection, in parallel processes', function () {
  this.timeout(180_000);
  let dir: string;
  let snapshot: string;
  const worlds: World[] = [];

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'edfi-fan-out-'));
    snapshot = join(dir, 'snapshot.sqlite');
    generateSnapshot({ students: 300, seed: 7, profile: 'core', endYears: YEARS, out: snapshot });
  });

  after(async function () {
    for (const w of worlds) await w.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function world(name: string, state = join(dir, `${name}.state.sqlite`)): Promise<World> {
    const server = await startTestServer({ clientId: KEY, clientSecret: SECRET });
    await preloadFromSnapshot(server, snapshot, ['core'], YEAR_PATH);
    const w = { server, state };
    worlds.push(w);
    return w;
  }

  const syncArgs = (w: World, ...extra: string[]): string[] => [
    'sync', '--profile', 'core', '--snapshot', snapshot, '--state', w.state, '--api-base', w.server.url, '--data-path', YEAR_PATH,
    '--concurrency', '4', '--quiet', ...extra,
  ];

  let reference: Outcome;
  let keys: string[];

  it('lists the connections a scheduler maps over (JSON), and one all-connections run is the reference', async function () {
    const listed = await runCli(['connections', '--profile', 'core', '--snapshot', snapshot, '--api-base', 'http://ods.example/api', '--data-path', YEAR_PATH, '--format', 'json']);
    expect(listed.code, listed.stderr).to.equal(EXIT.ok);
    const rows = JSON.parse(listed.stdout) as Array<{ key: string; districtNumber: number; schoolYear: number; enabled: boolean; target: { instance: string; credentialsFrom: string } }>;
    expect(rows.map((r) => r.key)).to.deep.equal(['1:2025', '1:2026', '2:2025', '2:2026', '3:2025', '3:2026']);
    expect(rows.map((r) => r.districtNumber)).to.deep.equal([4826100, 4826100, 480101, 480101, 1150025, 1150025]);
    expect(rows.find((r) => r.key === '1:2026')!.target.instance).to.equal('http://ods.example/api/data/v3/2026');
    expect(rows.every((r) => r.target.credentialsFrom === 'environment EDFI_CLIENT_ID / EDFI_CLIENT_SECRET')).to.equal(true);
    keys = rows.map((r) => r.key);

    const all = await world('all');
    const run = await runCli(syncArgs(all), ENV);
    // The generated world holds records back (invalid or duplicate Campus data): a run that sent the rest exits 7.
    expect(run.code, run.stderr).to.equal(EXIT.heldBack);
    reference = outcomeOf(all);
    expect(reference.ods['2026']!.length).to.be.greaterThan(50);
    expect(reference.identity.every((r) => (JSON.parse(r) as unknown[])[5] === true)).to.equal(true);
    expect(reference.openErrors.length).to.be.greaterThan(0);
  });

  it('one process per connection, all at once, on one shared state file: the same ODS, identity mapping and error log', async function () {
    const w = await world('shared');
    w.server.faults.setLatency(3);
    const runs = await Promise.all(keys.map((k) => runCli(syncArgs(w, '--connection', k, '--summary-json', join(dir, `shared-${k.replace(':', '-')}.json`)), ENV)));
    runs.forEach((r, i) => expect(r.code, `${keys[i]}: ${r.stderr}`).to.be.oneOf([EXIT.ok, EXIT.heldBack]));
    for (const k of keys) {
      const s = JSON.parse(readFileSync(join(dir, `shared-${k.replace(':', '-')}.json`), 'utf8')) as RunSummary;
      expect(s.connections.map((c) => c.connection)).to.deep.equal([k]);
    }
    w.server.faults.setLatency(0);
    expect(outcomeOf(w)).to.deep.equal(reference);
    // Each job recorded its own run, and no lock is left behind.
    const db = openState(w.state);
    const runsRecorded = db.prepare("SELECT connections FROM runs WHERE command = 'sync'").all() as Array<{ connections: string }>;
    const locks = db.prepare('SELECT * FROM lock').all();
    db.close();
    expect(runsRecorded.map((r) => (JSON.parse(r.connections) as string[]).join()).sort()).to.deep.equal([...keys].sort());
    expect(locks).to.deep.equal([]);

    // The next night, again in parallel: nothing to send, and the held-back records are counted again, not added.
    const from = w.server.requests.length;
    const again = await Promise.all(keys.map((k) => runCli(syncArgs(w, '--connection', k), ENV)));
    again.forEach((r, i) => expect(r.code, `${keys[i]}: ${r.stderr}`).to.be.oneOf([EXIT.ok, EXIT.heldBack]));
    expect(w.server.requests.slice(from).filter((r) => r.method !== 'GET' && r.path.includes(RESOURCE))).to.deep.equal([]);
    const second = outcomeOf(w);
    expect(second.ods).to.deep.equal(reference.ods);
    expect(second.openErrors.map((e) => (JSON.parse(e) as unknown[]).slice(0, 4))).to.deep.equal(reference.openErrors.map((e) => (JSON.parse(e) as unknown[]).slice(0, 4)));
    expect(second.openErrors.every((e) => (JSON.parse(e) as unknown[])[4] === 2), 'each problem seen twice, once per night').to.equal(true);
  });

  it('one state file per connection (--state .../{connection}.sqlite), each connection its own ODS instance (targets), in parallel: the same records and identity mapping', async function () {
    mkdirSync(join(dir, 'split'));
    const server = await startTestServer({ clientId: KEY, clientSecret: SECRET });
    const districts: Record<string, number> = { 1: 4826100, 2: 480101, 3: 1150025 };
    for (const n of Object.values(districts)) await preloadFromSnapshot(server, snapshot, ['core'], `/data/v3/${n}/{endYear}`);
    const w: World = { server, state: join(dir, 'split', '{connection}.sqlite') };
    worlds.push(w);
    const targets = join(dir, 'split-targets.yaml');
    writeFileSync(targets, [
      'defaults:',
      `  apiRoot: ${server.url}`,
      '  dataPath: /data/v3/{district}/{schoolYear}',
      '  credentials: { keyEnv: EDFI_CLIENT_ID, secretEnv: EDFI_CLIENT_SECRET }',
    ].join('\n'));
    const args = (k: string): string[] => ['sync', '--profile', 'core', '--snapshot', snapshot, '--state', w.state, '--targets', targets, '--connection', k, '--quiet'];
    const runs = await Promise.all(keys.map((k) => runCli(args(k), ENV)));
    runs.forEach((r, i) => expect(r.code, `${keys[i]}: ${r.stderr}`).to.be.oneOf([EXIT.ok, EXIT.heldBack]));
    // 3:2025 is toggled off: it sends nothing, but its run still keeps its own (empty) state file.
    expect(readdirSync(join(dir, 'split')).filter((f) => f.endsWith('.sqlite')).sort()).to.deep.equal(keys.map((k) => `${k.replace(':', '-')}.sqlite`).sort());
    const instance: InstanceOf = (c) => `/data/v3/${districts[c.split(':')[0]!]}/${c.split(':')[1]}`;
    const split = outcomeOf(w, instance, keys);
    expect(split).to.deep.equal(reference);
  });

  it('refuses one state file per connection where connections share an ODS instance (their records have one owner)', async function () {
    const w = await world('shared-instance', join(dir, 'shared-instance-{connection}.sqlite'));
    const run = await runCli(['sync', '--profile', 'core', '--snapshot', snapshot, '--state', w.state, '--api-base', w.server.url, '--data-path', '/data/v3', '--connection', '1:2026'], ENV);
    expect(run.code).to.equal(EXIT.usage);
    expect(run.stderr).to.contain('connection 1:2026 shares its ODS instance').and.to.contain('with 1:2025');
    expect(w.server.requests.filter((r) => r.path.includes(RESOURCE))).to.deep.equal([]);
  });

  it("one state file per connection where the root document routes each district and year to an instance of its own (no data path in the targets): not refused as shared", async function () {
    // The targets name only the root and the route's district: each connection's instance ({base}/{district}/{year}/data)
    // comes from the root document, so no two connections share one, and each job may keep its own state file.
    const server = await startTestServer({ clientId: KEY, clientSecret: SECRET, flavor: 'dms', routeContext: ['districtId', 'schoolYear'] });
    const districts: Record<string, number> = { 1: 4826100, 2: 480101, 3: 1150025 };
    for (const n of Object.values(districts)) await preloadFromSnapshot(server, snapshot, ['core-ds5'], `/${n}/{endYear}/data`);
    const w: World = { server, state: join(dir, 'routed', '{connection}.sqlite') };
    worlds.push(w);
    mkdirSync(join(dir, 'routed'));
    const targets = join(dir, 'routed-targets.yaml');
    writeFileSync(targets, ['defaults:', `  apiRoot: ${server.url}`, '  routeContext: { districtId: "{district}" }', '  credentials: { keyEnv: EDFI_CLIENT_ID, secretEnv: EDFI_CLIENT_SECRET }'].join('\n'));
    const run = await runCli(['sync', '--profile', 'core-ds5', '--snapshot', snapshot, '--state', w.state, '--targets', targets, '--connection', '1:2026', '--quiet'], ENV);
    expect(run.code, run.stderr).to.be.oneOf([EXIT.ok, EXIT.heldBack]);
    expect(server.instance('/4826100/2026/data').count(RESOURCE)).to.be.greaterThan(0);
    expect(server.instance('/4826100/2025/data').count(RESOURCE)).to.equal(0);
    expect(readdirSync(join(dir, 'routed')).filter((f) => f.endsWith('.sqlite'))).to.deep.equal(['1-2026.sqlite']);
  });

  it('two school years sharing one ODS instance: a first run counts the other year\'s records as shared, none as unchanged', async function () {
    const server = await startTestServer({ clientId: KEY, clientSecret: SECRET });
    await preloadFromSnapshot(server, snapshot, ['core'], '/data/v3');
    const w: World = { server, state: join(dir, 'one-instance.state.sqlite') };
    worlds.push(w);
    const summaryFile = join(dir, 'one-instance.json');
    const run = await runCli(['sync', '--profile', 'core', '--snapshot', snapshot, '--state', w.state, '--api-base', w.server.url, '--data-path', '/data/v3', '--quiet', '--summary-json', summaryFile], ENV);
    expect(run.code, run.stderr).to.be.oneOf([EXIT.ok, EXIT.heldBack]);
    const connections = (JSON.parse(readFileSync(summaryFile, 'utf8')) as RunSummary).connections;
    // Nothing was in the ODS before this run: no record of any connection is unchanged.
    expect(connections.map((c) => [c.connection, c.counts.unchanged])).to.deep.equal(connections.map((c) => [c.connection, 0]));
    // A program running across both years is one ODS record, sent by the later year: the earlier year counts it as shared.
    const shared = connections.reduce((n, c) => n + c.counts.shared, 0);
    expect(shared).to.be.greaterThan(0);
    for (const c of connections) expect(c.counts.kept, c.connection).to.equal(c.counts.heldBack + c.counts.shared + c.counts.created + c.counts.updated);
  });

  it('shards (--shard i/n, as a Kubernetes Indexed Job runs them) in parallel: every connection in exactly one shard, the same ODS', async function () {
    const w = await world('shards');
    const n = 3;
    const runs = await Promise.all(Array.from({ length: n }, (_, i) => runCli(syncArgs(w, '--shard', `${i}/${n}`, '--summary-json', join(dir, `shard-${i}.json`)), ENV)));
    runs.forEach((r, i) => expect(r.code, `shard ${i}: ${r.stderr}`).to.be.oneOf([EXIT.ok, EXIT.heldBack]));
    const inShards = Array.from({ length: n }, (_, i) => (JSON.parse(readFileSync(join(dir, `shard-${i}.json`), 'utf8')) as RunSummary).connections.map((c) => c.connection));
    expect(inShards.flat().sort()).to.deep.equal([...keys].sort());
    // Connections of one ODS instance (a school year here) always run in the same shard.
    for (const year of YEARS) expect(inShards.filter((s) => s.some((k) => k.endsWith(`:${year}`)))).to.have.length(1);
    expect(outcomeOf(w)).to.deep.equal(reference);
    const bad = await runCli(syncArgs(w, '--shard', '3/3'), ENV);
    expect(bad.code).to.equal(EXIT.usage);
    expect(bad.stderr).to.contain("--shard '3/3' must be INDEX/COUNT");
  });

  it("locks per connection: a run holding one connection refuses another run of it (exit 5), not of the others", async function () {
    const w = await world('locks');
    const db = openState(w.state);
    // A live run (the process that started the tests) holds connection 1:2026.
    db.prepare('INSERT INTO lock (name, pid, host, started_at) VALUES (?, ?, ?, ?)').run('connection:1:2026', process.ppid, hostname(), new Date().toISOString());
    db.close();
    const [blocked, other] = await Promise.all([runCli(syncArgs(w, '--connection', '1:2026'), ENV), runCli(syncArgs(w, '--connection', '2:2026'), ENV)]);
    const all = await runCli(syncArgs(w), ENV);
    expect(blocked.code, blocked.stderr).to.equal(EXIT.refused);
    expect(blocked.stderr).to.match(new RegExp(`another run \\(pid ${process.ppid} .*\\) holds the lock of connection 1:2026`));
    expect(all.code).to.equal(EXIT.refused);
    expect(other.code, other.stderr).to.be.oneOf([EXIT.ok, EXIT.heldBack]);
    expect(w.server.instance('/data/v3/2026').list(RESOURCE).every((i) => (i.body as JsonObject).educationOrganizationReference !== undefined)).to.equal(true);
    const leas = new Set(w.server.instance('/data/v3/2026').list(RESOURCE).map((i) => ((i.body as JsonObject).educationOrganizationReference as JsonObject).educationOrganizationId));
    expect([...leas]).to.deep.equal([480101]);
  });

  it('an unknown --connection is a usage error, not a silent success', async function () {
    const w = await world('unknown');
    const run: CliRun = await runCli(syncArgs(w, '--connection', '9:2026'), ENV);
    expect(run.code).to.equal(EXIT.usage);
    expect(run.stderr).to.contain("no connection 9:2026 for profile 'core' in this snapshot (it has: 1:2025, 1:2026, 2:2025, 2:2026, 3:2025, 3:2026)");
  });
});
