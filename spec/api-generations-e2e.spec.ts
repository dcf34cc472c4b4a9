// The proof that every Ed-Fi API generation is spoken, end to end over real HTTP to the test server: for Core and
// Missouri, each against the generations its Data Standard fits (Data Standard 4.0 on an ODS/API 5.x/6.x, 5.x on an
// ODS/API 7.x and the Ed-Fi API v8 / DMS), a first sync, a change sync with a natural-key change and a delete, and a
// resync, always with --api-base the API's root and no --data-path. Then what differs by generation: a profile that
// does not fit is refused, an API that cannot list records, the DMS's rate limiter, error bodies, token lifetimes.
import { rmSync, writeFileSync } from 'node:fs';
import { expect } from 'chai';
import type { ApiFlavor } from '../src/api/flavor.js';
import { runResync } from '../src/cli/commands/resync.js';
import { main } from '../src/cli/main.js';
import { EXIT } from '../src/cli/exit-codes.js';
import { startTestServer } from '../src/testserver/server.js';
import { ConfigError } from '../src/util/errors.js';
import type { JsonObject } from '../src/types.js';
import { captureStderr, keyText, naturalKeyOfBody, RESOURCE, SyncHarness, writes, type Row, type Tables } from './helpers/sync-e2e.js';

interface Case {
  profile: string;
  flavor: ApiFlavor;
  /** The Campus world of students 1..n (a student's start date changes the natural key; `gone` leaves Campus). */
  world(students: Array<{ person: number; start?: string; gone?: boolean }>): Tables;
  /** The source key of a student's record. */
  key(person: number): string;
}

const coreWorld = (list: Array<{ person: number; start?: string; gone?: boolean }>): Tables => {
  const Person: Row[] = [];
  const Enrollment: Row[] = [];
  const ProgramParticipation: Row[] = [];
  for (const s of list) {
    Person.push({ personID: s.person, stateID: String(1_000_000_000 + s.person) });
    Enrollment.push({ enrollmentID: 100 + s.person, personID: s.person, calendarID: 1, startDate: '2025-08-20' });
    if (!s.gone) ProgramParticipation.push({ participationID: 1000 + s.person, personID: s.person, programID: 1 + (s.person % 2), startDate: s.start ?? '2025-08-25', studentStatus: 'Completer' });
  }
  return { Person, Enrollment, ProgramParticipation };
};

// Missouri: one record per Enrollment; beginDate is the Enrollment start, Career Cluster and CTE Program Type are
// Enrollment fields. Program 1 (Welding) is mapped to a career pathway, which DS 4.0 sends in ctePrograms.
const missouriWorld = (list: Array<{ person: number; start?: string; gone?: boolean }>): Tables => {
  const Person: Row[] = [];
  const Enrollment: Row[] = [];
  const ProgramParticipation: Row[] = [];
  for (const s of list) {
    Person.push({ personID: s.person, stateID: String(1_000_000_000 + s.person) });
    if (!s.gone) Enrollment.push({ enrollmentID: 100 + s.person, personID: s.person, calendarID: 1, startDate: s.start ?? '2025-08-20', careerCluster: '13'.includes(String(s.person % 3)) ? '8' : '15', cteProgramType: 'Health Sciences' });
    ProgramParticipation.push({ participationID: 1000 + s.person, personID: s.person, programID: 1, startDate: '2025-08-20', studentStatus: 'Completer' });
  }
  return { Person, Enrollment, ProgramParticipation };
};

const CASES: Case[] = [
  ...(['ods-6'] as const).map((flavor) => ({ profile: 'core', flavor, world: coreWorld, key: (p: number) => `participationID=${1000 + p}` })),
  ...(['ods-7', 'dms'] as const).map((flavor) => ({ profile: 'core-ds5', flavor, world: coreWorld, key: (p: number) => `participationID=${1000 + p}` })),
  ...(['ods-6'] as const).map((flavor) => ({ profile: 'missouri', flavor, world: missouriWorld, key: (p: number) => `enrollmentID=${100 + p}` })),
  ...(['ods-7', 'dms'] as const).map((flavor) => ({ profile: 'missouri-ds5', flavor, world: missouriWorld, key: (p: number) => `enrollmentID=${100 + p}` })),
];

const FIVE = [1, 2, 3, 4, 5].map((person) => ({ person }));

/** The ODS holds exactly what a fresh plan wants (natural keys and bodies), and the identity rows hold its ids. */
async function expectOdsEqualsPlan(h: SyncHarness): Promise<void> {
  const desired = await h.desired();
  const stored = h.stored();
  expect(stored.map((s) => keyText(naturalKeyOfBody(s.body, h.profile))).sort()).to.deep.equal(desired.map((d) => keyText(d.naturalKey)).sort());
  const identity = h.identity();
  expect(identity.map((r) => r.sourceKey).sort()).to.deep.equal(desired.map((d) => d.sourceKey).sort());
  for (const d of desired) {
    const id = h.store.findId(RESOURCE, d.body);
    expect(identity.find((r) => r.sourceKey === d.sourceKey)?.edfiId, d.sourceKey).to.equal(id);
    expect(h.store.get(RESOURCE, id!)!.body).to.deep.equal(d.body);
  }
}

for (const c of CASES) {
  describe(`${c.profile} on ${c.flavor}: sync, change sync, resync from the API root`, function () {
    this.timeout(60_000);
    let h: SyncHarness;
    afterEach(async () => {
      await h?.close();
    });

    it('sends every record to the instance the root document routes to, with no --data-path; a second sync sends nothing', async () => {
      h = await SyncHarness.start({ flavor: c.flavor, profile: c.profile });
      h.world(c.world(FIVE));
      await h.preload();
      const first = await h.sync({ quiet: false });
      expect(first.code, first.stderr).to.equal(EXIT.ok);
      expect(first.stderr).to.include(`Ed-Fi API: `);
      expect(writes(first.requests).map((r) => `${r.method} ${r.status}`)).to.deep.equal(Array(5).fill('POST 201'));
      // The data went where the generation puts it: /data/v3, /{year}/data/v3, /{year}/data.
      const prefix = h.server.instancePrefix(2026);
      expect(writes(first.requests).every((r) => r.path.startsWith(`${prefix}/ed-fi/`))).to.equal(true);
      expect(first.requests.filter((r) => r.path === '/')).to.have.length(1);
      await expectOdsEqualsPlan(h);
      // Data Standard 4.0 bodies carry ctePrograms here (Welding is mapped to a pathway); 5.x bodies never do.
      const withCtePrograms = h.stored().filter((s) => 'ctePrograms' in s.body).length;
      if (c.flavor === 'ods-6') expect(withCtePrograms).to.be.greaterThan(0);
      else expect(withCtePrograms).to.equal(0);
      const again = await h.sync();
      expect(again.code).to.equal(EXIT.ok);
      expect(writes(again.requests)).to.deep.equal([]);
    });

    it('a natural-key change and a delete: the ODS ends equal to the plan, the old and the deleted record gone', async () => {
      h = await SyncHarness.start({ flavor: c.flavor, profile: c.profile });
      h.world(c.world(FIVE));
      await h.preload();
      expect((await h.sync()).code).to.equal(EXIT.ok);
      const moved = h.identityOf(c.key(2))!.edfiId!;
      const removed = h.identityOf(c.key(4))!.edfiId!;
      h.world(c.world(FIVE.map((s) => (s.person === 2 ? { ...s, start: '2025-09-02' } : s.person === 4 ? { ...s, gone: true } : s))));
      const run = await h.sync();
      expect(run.code, run.stderr).to.equal(EXIT.ok);
      const methods = writes(run.requests).map((r) => r.method).sort();
      expect(methods).to.deep.equal(['DELETE', 'DELETE', 'POST']);
      expect(h.store.get(RESOURCE, moved)).to.equal(undefined);
      expect(h.store.get(RESOURCE, removed)).to.equal(undefined);
      expect(h.identityOf(c.key(4))).to.equal(undefined);
      const movedNow = h.stored().filter((s) => ((s.body.studentReference as JsonObject).studentUniqueId as string) === '1000000002');
      expect(movedNow.map((s) => s.body.beginDate)).to.deep.equal(['2025-09-02']);
      await expectOdsEqualsPlan(h);
    });

    it('resync: a lost state file is rebuilt by adopting every record, and a record the ODS lost is sent again', async () => {
      h = await SyncHarness.start({ flavor: c.flavor, profile: c.profile });
      h.world(c.world(FIVE));
      await h.preload();
      expect((await h.sync()).code).to.equal(EXIT.ok);
      const lost = h.stored()[0]!;
      h.store.delete(RESOURCE, lost.id);
      rmSync(h.state);
      for (const suffix of ['-wal', '-shm']) rmSync(h.state + suffix, { force: true });
      const from = h.server.requests.length;
      const { value: code, text } = await captureStderr(() => quietStdout(() => runResync(resyncOptions(h))));
      expect(code, text).to.equal(EXIT.ok);
      const w = writes(h.server.requests.slice(from));
      expect(w.map((r) => r.method)).to.deep.equal(['POST']);
      await expectOdsEqualsPlan(h);
    });
  });
}

function resyncOptions(h: SyncHarness): Parameters<typeof runResync>[0] {
  return { profile: h.profile, snapshot: h.snapshot, state: h.state, apiBase: h.server.url, concurrency: 4, quiet: true };
}

async function quietStdout<T>(f: () => Promise<T>): Promise<T> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await f();
  } finally {
    process.stdout.write = write;
  }
}

describe('a profile and an API of different Data Standards', function () {
  this.timeout(30_000);
  let h: SyncHarness;
  afterEach(async () => {
    await h?.close();
    process.exitCode = undefined;
  });

  it('sync refuses core on an ODS/API 7.x before sending, naming both versions and core-ds5; the command exits 3', async () => {
    h = await SyncHarness.start({ flavor: 'ods-7', profile: 'core' });
    h.world(coreWorld(FIVE));
    await h.preload();
    // The connection stops before anything is sent (other connections, to other APIs, would still run).
    const run = await h.sync({ quiet: false });
    expect(run.code).to.equal(EXIT.config);
    expect(run.stderr).to.match(/profile 'core' is written for Ed-Fi Data Standard 3\.3\.1, 4\.0, but Ed-Fi ODS\/API 7\.x 7\.3, Ed-Fi Data Standard 5\.2\.0, at .* serves Ed-Fi Data Standard 5\.2\.0: nothing was sent\. Use --profile core-ds5/);
    expect(h.server.requests.filter((r) => r.path !== '/')).to.deep.equal([]);

    const { text } = await captureStderr(() =>
      main(['node', 'edfi-sync', 'sync', '--profile', 'core', '--snapshot', h.snapshot, '--state', h.state, '--api-base', h.server.url, '--quiet']),
    );
    expect(process.exitCode).to.equal(EXIT.config);
    expect(text).to.match(/Data Standard 3\.3\.1, 4\.0[\s\S]*Data Standard 5\.2\.0[\s\S]*core-ds5/);
    expect(writes(h.server.requests)).to.deep.equal([]);
  });

  it('an API root that does not answer: exit 6 with the URL, before planning', async () => {
    h = await SyncHarness.start({ flavor: 'ods-6' });
    h.world(coreWorld(FIVE));
    const gone = await startTestServer({});
    const root = gone.url;
    await gone.close();
    const { text } = await captureStderr(() =>
      main(['node', 'edfi-sync', 'sync', '--profile', 'core', '--snapshot', h.snapshot, '--state', h.state, '--api-base', root, '--quiet']),
    );
    expect(process.exitCode).to.equal(EXIT.unreachable);
    expect(text).to.include(`could not reach the Ed-Fi API's root document at ${root}/`);
  });

  it('sync refuses missouri-ds5 on an ODS/API 6.x (Data Standard 4.0), naming missouri', async () => {
    h = await SyncHarness.start({ flavor: 'ods-6', profile: 'missouri-ds5' });
    h.world(missouriWorld(FIVE));
    await h.preload();
    const run = await h.sync({ quiet: false });
    expect(run.code).to.equal(EXIT.config);
    expect(run.stderr).to.match(/profile 'missouri-ds5' is written for Ed-Fi Data Standard 5\.x, .* serves Ed-Fi Data Standard 4\.0\.0: nothing was sent\. Use --profile missouri\b/);
    expect(writes(h.server.requests)).to.deep.equal([]);
  });
});

describe('resync where the API cannot list records', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async () => {
    await h?.close();
  });

  for (const listing of ['error-500', 'no-search-400'] as const) {
    it(`${listing}: says so, looks up each mapped record by id, re-sends the lost one, deletes and adopts nothing it cannot see, and exits as the sync does`, async () => {
      h = await SyncHarness.start({ flavor: 'dms', listing });
      h.world(coreWorld(FIVE));
      await h.preload();
      expect((await h.sync()).code).to.equal(EXIT.ok);
      const lost = h.stored()[0]!;
      h.store.delete(RESOURCE, lost.id);
      // A record in the ODS that no identity row maps: a listing would find (and delete) it; lookups by id cannot.
      const stranger: JsonObject = { ...h.stored()[0]!.body, beginDate: '2025-10-01' };
      h.store.post(RESOURCE, stranger);
      const from = h.server.requests.length;
      let out = '';
      const { value: code, text } = await captureStderr(async () => {
        const write = process.stdout.write.bind(process.stdout);
        process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
        try {
          return await runResync(resyncOptions(h));
        } finally {
          process.stdout.write = write;
        }
      });
      expect(code, text).to.equal(EXIT.ok);
      expect(out).to.match(/could not list \/ed-fi\/studentCTEProgramAssociations \(HTTP (500|400)/);
      expect(out).to.match(/looked up the 5 mapped record\(s\) by id instead; records in the ODS that no identity row maps cannot be found this way, so none was adopted or deleted/);
      expect(out).to.match(/forget-mapping +1/);
      const requests = h.server.requests.slice(from);
      const byId = requests.filter((r) => r.method === 'GET' && /\/studentCTEProgramAssociations\/\w+$/.test(r.path)).map((r) => r.path.split('/').pop());
      expect(new Set(byId).size, 'each mapped record looked up by its id').to.equal(5);
      expect(writes(requests).map((r) => r.method)).to.deep.equal(['POST']);
      expect(h.store.findId(RESOURCE, stranger)).to.be.a('string');
      expect(h.store.count(RESOURCE)).to.equal(6);
    });
  }
});

describe('what differs by generation, end to end', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async () => {
    await h?.close();
  });

  it('the DMS rate limiter: 429s with Retry-After are waited out, every record arrives, and the run says so once', async () => {
    h = await SyncHarness.start({ flavor: 'dms', rateLimit: { requests: 6, windowMs: 1000 } });
    h.world(coreWorld(FIVE.concat([6, 7, 8, 9, 10].map((person) => ({ person })))));
    await h.preload();
    const run = await h.sync({ quiet: false });
    expect(run.code, run.stderr).to.equal(EXIT.ok);
    expect(writes(run.requests).filter((r) => r.status === 429).length).to.be.greaterThan(0);
    expect(writes(run.requests).filter((r) => r.status === 201)).to.have.length(10);
    expect(run.stderr.match(/the API is limiting requests \(HTTP 429\)/g)).to.have.length(1);
    expect(h.errors()).to.deep.equal([]);
  });

  for (const flavor of ['ods-7', 'dms'] as const) {
    it(`${flavor}: an unresolved reference in problem+json reaches the error log with the spec's entry, the API's reason and its type`, async () => {
      h = await SyncHarness.start({ flavor });
      h.world(coreWorld([{ person: 1 }, { person: 2 }]));
      await h.preload();
      h.store.delete('students', h.store.findId('students', { studentUniqueId: '1000000002' })!);
      const run = await h.sync();
      expect(run.code).to.equal(EXIT.apiFailed);
      const [entry] = h.errors();
      expect(entry).to.include({ catalogueId: 'core.error.unresolved-reference', status: 409, sourceKey: 'participationID=1002' });
      expect(entry!.message).to.include('[urn:ed-fi:api:data-conflict:unresolved-reference]');
      expect(entry!.message).to.include(flavor === 'dms' ? '$.studentReference: The referenced Student item does not exist.' : "The referenced 'Student' item does not exist.");
      expect(entry!.fix).to.include('Resync the resource being mentioned in the error');
    });
  }

  it('a DMS routing by district and year: --route-context districtId={districtNumber} fills the district from the connection', async () => {
    h = await SyncHarness.start({ flavor: 'dms', routeContext: ['districtId', 'schoolYear'], defaultRouteContext: { districtId: '1234567' } });
    h.world(coreWorld(FIVE));
    await h.preload();
    const args = ['node', 'edfi-sync', 'sync', '--profile', 'core-ds5', '--snapshot', h.snapshot, '--state', h.state, '--api-base', h.server.url, '--quiet'];
    const without = await captureStderr(() => main(args));
    // A placeholder nothing fills is the command line's or the targets file's problem: trying later would not help.
    expect(process.exitCode, without.text).to.equal(EXIT.config);
    expect(without.text).to.match(/needs \{districtId\}, which this connection does not give: add --route-context districtId=VALUE/);
    process.exitCode = undefined;
    const withContext = await captureStderr(() => main([...args, '--route-context', 'districtId={districtNumber}']));
    expect(process.exitCode, withContext.text).to.equal(EXIT.ok);
    expect(h.server.instance('/1234567/2026/data').count(RESOURCE)).to.equal(5);
    process.exitCode = undefined;
    // The same from a targets file: the connection's routeContext, {district} filled with its district number.
    const targets = `${h.state}.targets.yaml`;
    writeFileSync(targets, `defaults:\n  apiRoot: ${h.server.url}\n  routeContext: { districtId: "{district}" }\n  credentials: { keyEnv: EDFI_CLIENT_ID, secretEnv: EDFI_CLIENT_SECRET }\n`);
    const from = h.server.requests.length;
    const byTargets = await captureStderr(() => main(['node', 'edfi-sync', 'sync', '--profile', 'core-ds5', '--snapshot', h.snapshot, '--state', `${h.state}.2`, '--targets', targets, '--quiet']));
    expect(process.exitCode, byTargets.text).to.equal(EXIT.ok);
    const posts = h.server.requests.slice(from).filter((r) => r.method === 'POST' && r.path.includes(RESOURCE));
    expect(posts.length).to.equal(5);
    expect(posts.every((r) => r.path.startsWith('/1234567/2026/data/'))).to.equal(true);
    process.exitCode = undefined;
    const bad = await captureStderr(() => main([...args, '--route-context', 'districtId']));
    expect(process.exitCode).to.equal(EXIT.usage);
    expect(bad.text).to.match(/--route-context takes name=value/);
    process.exitCode = undefined;
  });

  it('a token whose expires_in is an absolute epoch time: said once, and the run completes', async () => {
    h = await SyncHarness.start({ flavor: 'ods-6', epochExpiresIn: true });
    h.world(coreWorld(FIVE));
    await h.preload();
    const run = await h.sync({ quiet: false });
    expect(run.code, run.stderr).to.equal(EXIT.ok);
    const notes = run.stderr.match(/note: the token endpoint gave expires_in \d+, which is an absolute time \(epoch seconds\), not a lifetime/g);
    expect(notes).to.have.length(1);
  });
});
