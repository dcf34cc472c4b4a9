// --connection limits resync and retry to those connections: the others are neither sent nor deleted.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { runResync } from '../src/cli/commands/resync.js';
import { runRetry } from '../src/cli/commands/retry.js';
import { runSync, type SyncOptions } from '../src/cli/commands/sync.js';
import { preloadFromSnapshot } from '../src/cli/commands/test-server.js';
import { EXIT } from '../src/cli/exit-codes.js';
import type { RunSummary } from '../src/cli/run-summary.js';
import { generateSnapshot } from '../src/snapshot/generate.js';
import { startTestServer, type TestServer } from '../src/testserver/server.js';
import type { JsonObject } from '../src/types.js';
import { RESOURCE } from './helpers/sync-e2e.js';

const YEAR_PATH = '/data/v3/{endYear}';
const CEDAR = 4826100;

async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return await f();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

describe('--connection on resync and retry', function () {
  this.timeout(60_000);
  let dir: string;
  let server: TestServer;
  let o: SyncOptions;
  const saved = { id: process.env.EDFI_CLIENT_ID, secret: process.env.EDFI_CLIENT_SECRET };

  beforeEach(async function () {
    dir = mkdtempSync(join(tmpdir(), 'edfi-conn-filter-'));
    const snapshot = join(dir, 'snapshot.sqlite');
    generateSnapshot({ students: 150, seed: 3, profile: 'core', out: snapshot });
    server = await startTestServer({ clientId: 'cf-key', clientSecret: 'cf-Secret-31' });
    process.env.EDFI_CLIENT_ID = 'cf-key';
    process.env.EDFI_CLIENT_SECRET = 'cf-Secret-31';
    await preloadFromSnapshot(server, snapshot, ['core'], YEAR_PATH);
    o = { profile: 'core', snapshot, state: join(dir, 'state.sqlite'), apiBase: server.url, dataPath: YEAR_PATH, concurrency: 4, quiet: true, heldBackOk: true };
  });

  afterEach(async function () {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    for (const [k, v] of [['EDFI_CLIENT_ID', saved.id], ['EDFI_CLIENT_SECRET', saved.secret]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  const instance = (year: number) => server.instance(`/data/v3/${year}`);

  it('resync --connection deletes the unwanted ODS records of that connection only', async function () {
    expect(await quietly(() => runSync(o))).to.equal(EXIT.ok);
    // A record nobody wants, in the ODS of each of Cedar Valley's two school years.
    const orphans = [2025, 2026].map((year) => {
      const body = instance(year).list(RESOURCE).find((i) => ((i.body.educationOrganizationReference as JsonObject).educationOrganizationId) === CEDAR)!.body;
      const r = instance(year).post(RESOURCE, { ...body, beginDate: `${year - 1}-07-02` }, { skipAuthorization: true });
      if (!r.ok) throw new Error(`seed refused: ${r.status}`);
      return { year, id: r.id };
    });
    const summaryJson = join(dir, 'resync-summary.json');
    expect(await quietly(() => runResync({ ...o, connection: ['1:2026'], summaryJson }))).to.equal(EXIT.ok);
    expect(instance(2026).get(RESOURCE, orphans[1]!.id)).to.equal(undefined);
    // The summary is the resync's, and the connection's counts include the DELETE the reconciliation sent.
    const summary = JSON.parse(readFileSync(summaryJson, 'utf8')) as RunSummary;
    expect(summary.command).to.equal('resync');
    expect(summary.connections.map((c) => [c.connection, c.counts.deleted])).to.deep.equal([['1:2026', 1]]);
    expect(instance(2025).get(RESOURCE, orphans[0]!.id), "the other connection's record is left alone").to.not.equal(undefined);
    expect(await quietly(() => runResync({ ...o, connection: ['1:2025'] }))).to.equal(EXIT.ok);
    expect(instance(2025).get(RESOURCE, orphans[0]!.id)).to.equal(undefined);
  });

  it("resync: a DELETE of a record nobody wants that the API refuses is the connection's failure (exit 1), and the record stays", async function () {
    expect(await quietly(() => runSync(o))).to.equal(EXIT.ok);
    const body = instance(2026).list(RESOURCE).find((i) => ((i.body.educationOrganizationReference as JsonObject).educationOrganizationId) === CEDAR)!.body;
    const orphan = instance(2026).post(RESOURCE, { ...body, beginDate: '2025-07-02' }, { skipAuthorization: true });
    if (!orphan.ok) throw new Error(`seed refused: ${orphan.status}`);
    server.faults.add({ kind: 'status', status: 500, times: Infinity, match: { method: 'DELETE', pathIncludes: RESOURCE } });
    const summaryJson = join(dir, 'resync-failed.json');
    expect(await quietly(() => runResync({ ...o, connection: ['1:2026'], summaryJson }))).to.equal(EXIT.apiFailed);
    expect(instance(2026).get(RESOURCE, orphan.id)).to.not.equal(undefined);
    const summary = JSON.parse(readFileSync(summaryJson, 'utf8')) as RunSummary;
    expect(summary.connections.map((c) => [c.connection, c.counts.deleted, c.counts.failed, c.exitCode])).to.deep.equal([['1:2026', 0, 1, EXIT.apiFailed]]);
  });

  it('retry --connection resends the failed records of that connection only', async function () {
    server.faults.add({ kind: 'answer', status: 400, body: { message: 'The request is invalid.' }, times: Infinity, match: { method: 'POST', pathIncludes: RESOURCE } });
    expect(await quietly(() => runSync(o))).to.equal(EXIT.apiFailed);
    server.faults.clear();
    const from = server.requests.length;
    expect(await quietly(() => runRetry({ ...o, connection: ['2:2026'] }))).to.equal(EXIT.ok);
    const posted = server.requests.slice(from).filter((r) => r.method === 'POST' && r.path.includes(RESOURCE));
    expect(posted.length).to.be.greaterThan(0);
    expect(posted.every((r) => r.path.startsWith('/data/v3/2026/'))).to.equal(true);
    const leas = new Set(instance(2026).list(RESOURCE).map((i) => (i.body.educationOrganizationReference as JsonObject).educationOrganizationId));
    expect([...leas]).to.deep.equal([480101]);
    expect(instance(2025).count(RESOURCE)).to.equal(0);
  });
});
