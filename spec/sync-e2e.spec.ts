// `sync` end to end: snapshots built from fixture rows, sent by runSync to the local Ed-Fi test server, and
// checked in the server's store, the state file (identity mapping, error log) and the server's request log.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { expect } from 'chai';
import type { CatalogueEntry } from '../src/errors/catalogue.js';
import { EXIT } from '../src/cli/exit-codes.js';
import { openState } from '../src/state/state-db.js';
import type { ErrorLogEntry } from '../src/state/error-log.js';
import { messages, type ErrorBody } from '../src/testserver/messages.js';
import { loadFixture } from '../src/snapshot/fixture.js';
import type { EdFiStore } from '../src/testserver/store.js';
import type { TestServer } from '../src/testserver/server.js';
import type { JsonObject } from '../src/types.js';
import {
  coreProfile,
  FLAVORS,
  fixtureYaml,
  idOf,
  keyText,
  naturalKeyOfBody,
  RESOURCE,
  secretForms,
  sourceKey,
  stateID,
  students,
  studentTables,
  SyncHarness,
  writes,
  type Row,
  type StudentSpec,
  type SyncRun,
  type Tables,
} from './helpers/sync-e2e.js';

const SCPA_PATH = `/ed-fi/${RESOURCE}`;
const ENTITY = 'StudentCTEProgramAssociation';

/** The spec's Error Log, as the seed words each entry: message, cause and fix (phrases that must reach the log). */
const SPEC_ERRORS = {
  'core.error.required-field': {
    status: 400,
    cause: 'An element of the JSON that is required is missing and needs to be added.',
    fix: 'Double check that all bolded data elements',
  },
  'core.error.unresolved-reference': {
    status: 400,
    cause: 'referenced from a difference resource does not yet exist',
    fix: 'Resync the resource being mentioned in the error, then resync the errored resource.',
  },
  'core.error.unknown-descriptor': {
    status: 400,
    cause: 'referenced from a difference resource does not yet exist',
    fix: 'Double check the referenced values being sent are valid',
  },
  'core.error.authorization-denied': {
    status: 403,
    cause: 'The key/secret being used does not have permission to send a record for the resource / referenced resource.',
    fix: 'Double check your API credentials (key/secret)',
  },
  'core.error.delete-not-found': {
    status: 404,
    cause: 'The attempt to delete a specific Ed-Fi record ID in the ODS failed because it did not exist.',
    fix: 'This error can be ignored. The ID was cleared from the Ed-Fi Identity Mapping Report and will not attempt to delete again.',
  },
  'core.error.natural-key-conflict': {
    status: 409,
    cause: 'The Ed-Fi API has a natural key system alongside a standard REST ID system.',
    fix: 'Check for duplicate data in your Campus site.',
  },
  'core.error.delete-dependency': {
    status: 409,
    cause: 'The resource that the application is attempting to delete is referenced from another entity.',
    fix: 'Use the Delete Tool to delete the referenced resource in the error message. Then retry the delete on the original resource that errored.',
  },
  'core.error.server-error': {
    status: 500,
    cause: 'Something unexpected happened and no specific error message could be returned.',
    fix: 'Confirm that there are no issues with the ODS the data is being sent to',
  },
} as const;
type SpecErrorId = keyof typeof SPEC_ERRORS;

function catalogueEntry(id: SpecErrorId): CatalogueEntry {
  const e = coreProfile().catalogue.byId(id);
  if (!e) throw new Error(`the core catalogue has no ${id}`);
  return e;
}

/** The error log entry of one record, checked against the catalogue and the spec's cause and fix. */
function expectLogged(
  entries: ErrorLogEntry[],
  id: SpecErrorId,
  want: {
    sourceKey: string; student: string | null; status: number | null; method?: string | null; level?: 'error' | 'info'; message?: RegExp;
    /** The check that held the record back (nothing was sent). */
    heldBack?: string;
    /** The spec's text with RESOURCE and FIELD filled in; by default RESOURCE is this resource's entity. */
    spec?: string;
  },
): ErrorLogEntry {
  const found = entries.filter((e) => e.sourceKey === want.sourceKey && e.catalogueId === id);
  expect(found, `no ${id} entry for ${want.sourceKey} in ${JSON.stringify(entries.map((e) => [e.sourceKey, e.catalogueId, e.status, e.message]))}`).to.have.length.greaterThan(0);
  const e = found[found.length - 1]!;
  const cat = catalogueEntry(id);
  expect(e.status).to.equal(want.status);
  expect(e.student).to.equal(want.student);
  expect(e.resource).to.equal(RESOURCE);
  expect(e.connection).to.equal('1:2026');
  expect(e.level).to.equal(want.level ?? 'error');
  if (want.method !== undefined) expect(e.method).to.equal(want.method);
  expect(e.heldBack ?? null).to.equal(want.heldBack ?? null);
  if (want.message) expect(e.message).to.match(want.message);
  expect(e.specMessage).to.equal(want.spec ?? cat.specMessage.replace(/'\s*RESOURCE\s*'/g, `'${ENTITY}'`));
  expect(e.specMessage, 'placeholders left in the spec text').to.not.match(/\bRESOURCE\b|\bFIELD\b/);
  expect(e.specMessage).to.match(new RegExp(`^${SPEC_ERRORS[id].status}:`));
  expect(e.cause).to.equal(cat.cause);
  expect(e.fix).to.equal(cat.fix);
  expect(e.cause).to.include(SPEC_ERRORS[id].cause);
  expect(e.fix).to.include(SPEC_ERRORS[id].fix);
  return e;
}

function expectNoSecret(h: SyncHarness, stderr: string = h.stderr): void {
  const texts = h.stateTexts();
  expect(texts.length).to.be.greaterThan(0);
  for (const form of secretForms()) {
    expect(texts.filter((t) => t.includes(form)), `secret in the state file`).to.deep.equal([]);
    expect(stderr.includes(form), 'secret in stderr').to.equal(false);
    expect(h.errors().filter((e) => JSON.stringify(e).includes(form)), 'secret in the error log').to.deep.equal([]);
  }
}

/** Every wanted record is in the ODS with the mapped body, once, and the identity rows hold its ids. */
async function expectInStep(h: SyncHarness, store: EdFiStore = h.store): Promise<void> {
  const desired = await h.desired();
  const stored = h.stored(store);
  expect(stored.map((s) => keyText(naturalKeyOfBody(s.body))).sort()).to.deep.equal(desired.map((d) => keyText(d.naturalKey)).sort());
  const identity = h.identity();
  expect(identity.map((r) => r.sourceKey).sort()).to.deep.equal(desired.map((d) => d.sourceKey).sort());
  for (const d of desired) {
    const row = identity.find((r) => r.sourceKey === d.sourceKey)!;
    const id = store.findId(RESOURCE, d.body);
    expect(id, `${d.sourceKey} is not in the ODS`).to.be.a('string');
    expect(row.edfiId, `identity row of ${d.sourceKey}`).to.equal(id);
    expect(row.lastOutcome).to.equal('ok');
    expect(store.get(RESOURCE, id!)!.body).to.deep.equal(d.body);
  }
}

/**
 * Makes the next POST, PUT or DELETE of an association answer with an error body of our choosing, as an ODS would
 * (the test server's `answer` fault); later calls go through.
 */
function refuseNext(server: TestServer, method: 'post' | 'put' | 'delete', status: number, body: ErrorBody): void {
  server.faults.add({ kind: 'answer', status, body, match: { method: method.toUpperCase(), pathIncludes: RESOURCE } });
}

/** Records the bodies of PUTs that reach the store. */
function spyPuts(store: EdFiStore): Array<{ id: string; body: unknown }> {
  const seen: Array<{ id: string; body: unknown }> = [];
  const original = store.put.bind(store);
  store.put = (resource, id, body, options) => {
    seen.push({ id, body });
    return original(resource, id, body, options);
  };
  return seen;
}

function methods(run: SyncRun): string[] {
  return writes(run.requests).map((r) => r.method);
}

for (const flavor of FLAVORS) describe(`sync end to end against the Ed-Fi test server (${flavor})`, function () {
  this.timeout(30_000);
  let h: SyncHarness;

  afterEach(async function () {
    await h?.close();
  });

  /** A world of students, preloaded references, and a first sync that must send all of it. */
  async function firstSync(list: StudentSpec[], extraTables: Tables = {}): Promise<SyncRun> {
    h.world({ ...studentTables(list), ...extraTables });
    await h.preload();
    const run = await h.sync();
    expect(run.code, run.stderr).to.equal(EXIT.ok);
    return run;
  }

  describe('first sync', function () {
    it('puts every planned record in the ODS with its mapped body, keeps the Location ids, exits 0; a second sync sends nothing', async function () {
      h = await SyncHarness.start({ flavor });
      const run = await firstSync(students(6));
      const desired = await h.desired();
      expect(desired).to.have.length(6);
      expect(methods(run)).to.deep.equal(Array(6).fill('POST'));
      expect(writes(run.requests).every((r) => r.status === 201)).to.equal(true);
      await expectInStep(h);
      // The mapped body of one record, as the spec's data elements give it.
      const one = h.stored().find((s) => (s.body.studentReference as JsonObject).studentUniqueId === stateID(1))!;
      expect(one.body).to.deep.include({ beginDate: '2025-08-25', privateCTEProgram: false, nonTraditionalGenderStatus: false });
      expect(one.body.programReference).to.deep.equal({
        educationOrganizationId: 1234567,
        programName: 'Certified Nursing Assistant',
        programTypeDescriptor: 'uri://ed-fi.org/ProgramTypeDescriptor#Career and Technical Education',
      });
      expect(h.errors()).to.deep.equal([]);

      const again = await h.sync();
      expect(again.code).to.equal(EXIT.ok);
      expect(writes(again.requests)).to.deep.equal([]);
      await expectInStep(h);
    });
  });

  describe('change sync', function () {
    it('an end date set: one PUT with the id in the body, the ODS updated', async function () {
      h = await SyncHarness.start({ flavor });
      await firstSync(students(3));
      const before = h.identityOf(sourceKey(2))!;
      const puts = spyPuts(h.store);
      h.world(studentTables([{ personID: 1 }, { personID: 2, endDate: '2026-05-20' }, { personID: 3 }]));
      const run = await h.sync();
      expect(run.code, run.stderr).to.equal(EXIT.ok);
      expect(writes(run.requests).map((r) => [r.method, idOf(r), r.status])).to.deep.equal([['PUT', before.edfiId, 204]]);
      expect(puts).to.have.length(1);
      expect(puts[0]!.body).to.deep.include({ id: before.edfiId, endDate: '2026-05-20', beginDate: '2025-08-25' });
      expect(h.store.get(RESOURCE, before.edfiId!)!.body.endDate).to.equal('2026-05-20');
      expect(h.identityOf(sourceKey(2))!.edfiId).to.equal(before.edfiId);
      await expectInStep(h);
    });

    it('a program start date changed (natural key): POST of the new record first, then DELETE of the old id; one record with the new beginDate', async function () {
      h = await SyncHarness.start({ flavor });
      await firstSync(students(3));
      const oldId = h.identityOf(sourceKey(2))!.edfiId!;
      h.world(studentTables([{ personID: 1 }, { personID: 2, startDate: '2025-09-02' }, { personID: 3 }]));
      const run = await h.sync();
      expect(run.code, run.stderr).to.equal(EXIT.ok);
      const w = writes(run.requests);
      expect(w.map((r) => r.method)).to.deep.equal(['POST', 'DELETE']);
      expect(idOf(w[1]!)).to.equal(oldId);
      expect(w.map((r) => r.status)).to.deep.equal([201, 204]);
      const mine = h.stored().filter((s) => (s.body.studentReference as JsonObject).studentUniqueId === stateID(2));
      expect(mine).to.have.length(1);
      expect(mine[0]!.body.beginDate).to.equal('2025-09-02');
      expect(mine[0]!.id).to.not.equal(oldId);
      expect(h.store.get(RESOURCE, oldId)).to.equal(undefined);
      expect(h.identityOf(sourceKey(2))!.edfiId).to.equal(mine[0]!.id);
      expect(h.store.count(RESOURCE)).to.equal(3);
      await expectInStep(h);
    });

    it('a student made No Show and a program record removed from Campus: a DELETE each, the ODS and identity rows rid of them', async function () {
      h = await SyncHarness.start({ flavor });
      await firstSync(students(4));
      const noShowId = h.identityOf(sourceKey(2))!.edfiId!;
      const removedId = h.identityOf(sourceKey(3))!.edfiId!;
      h.world(studentTables([{ personID: 1 }, { personID: 2, noShow: true }, { personID: 3, noParticipation: true }, { personID: 4 }]));
      const run = await h.sync();
      expect(run.code, run.stderr).to.equal(EXIT.ok);
      expect(writes(run.requests).map((r) => `${r.method} ${idOf(r)} ${r.status}`).sort()).to.deep.equal(
        [`DELETE ${noShowId} 204`, `DELETE ${removedId} 204`].sort(),
      );
      expect(h.store.get(RESOURCE, noShowId)).to.equal(undefined);
      expect(h.store.get(RESOURCE, removedId)).to.equal(undefined);
      expect(h.store.count(RESOURCE)).to.equal(2);
      expect(h.identityOf(sourceKey(2))).to.equal(undefined);
      expect(h.identityOf(sourceKey(3))).to.equal(undefined);
      await expectInStep(h);
      const again = await h.sync();
      expect(writes(again.requests)).to.deep.equal([]);
    });

    it('a program record re-entered in Campus (new Program ID, same data): the new record takes the old ODS record over, nothing deleted', async function () {
      h = await SyncHarness.start({ flavor });
      await firstSync(students(2));
      const oldId = h.identityOf(sourceKey(2))!.edfiId!;
      const tables = studentTables([{ personID: 1 }, { personID: 2, noParticipation: true }]);
      tables.ProgramParticipation!.push({ participationID: 3002, personID: 2, programID: 1, startDate: '2025-08-25', endDate: null });
      h.world(tables);
      const run = await h.sync();
      expect(run.code, run.stderr).to.equal(EXIT.ok);
      // Same natural key: the ODS record is the same; a DELETE then POST would only churn its id.
      expect(writes(run.requests).map((r) => `${r.method} ${idOf(r)} ${r.status}`)).to.deep.equal([`PUT ${oldId} 204`]);
      expect(h.identityOf(sourceKey(2))).to.equal(undefined);
      expect(h.identityOf('participationID=3002')!.edfiId).to.equal(oldId);
      await expectInStep(h);
      expect(writes((await h.sync()).requests)).to.deep.equal([]);
    });

    it('a re-entered record whose take-over PUT fails: the old record stays in the ODS and mapped, and the next run takes it over', async function () {
      h = await SyncHarness.start({ flavor });
      await firstSync(students(2));
      const oldId = h.identityOf(sourceKey(2))!.edfiId!;
      const tables = studentTables([{ personID: 1 }, { personID: 2, noParticipation: true }]);
      tables.ProgramParticipation!.push({ participationID: 3002, personID: 2, programID: 1, startDate: '2025-08-25', endDate: null });
      h.world(tables);
      refuseNext(h.server, 'put', 409, { message: messages.dependentItemExists('studentCTEProgramAssociationExtension') });
      const run = await h.sync();
      expect(run.code).to.equal(EXIT.apiFailed);
      expect(writes(run.requests).map((r) => `${r.method} ${r.status}`)).to.deep.equal(['PUT 409']);
      expect(h.store.get(RESOURCE, oldId)).to.not.equal(undefined);
      expect(h.identityOf(sourceKey(2))!.edfiId).to.equal(oldId);

      const again = await h.sync();
      expect(again.code, again.stderr).to.equal(EXIT.ok);
      expect(writes(again.requests).map((r) => `${r.method} ${idOf(r)} ${r.status}`)).to.deep.equal([`PUT ${oldId} 204`]);
      expect(h.identityOf(sourceKey(2))).to.equal(undefined);
      await expectInStep(h);
      const third = await h.sync();
      expect(writes(third.requests)).to.deep.equal([]);
      await expectInStep(h);
    });

    it('two school-year connections sharing one ODS instance: one owner per record (the later year), a warning, and a record deleted only when no year wants it', async function () {
      // ODS/API 7.x and the DMS route each school year to its own instance: no two years share one here.
      if (flavor !== 'ods-6') this.skip();
      h = await SyncHarness.start({ flavor });
      // A second connection, for 2024-25, sending to the same ODS (no year segment in the data path).
      const prefs = loadFixture(fixtureYaml({})).tables.EdFiResourcePreference ?? [];
      const year2025: Tables = {
        SchoolYear: [{ endYear: 2025, label: '2024-25', startDate: '2024-07-01', endDate: '2025-06-30' }],
        Calendar: [{ calendarID: 2, schoolID: 1, endYear: 2025, name: '2024-25 Standard High School' }],
        EdFiConfiguration: [{ configID: 2, districtID: 1, endYear: 2025, profile: 'core' }],
        EdFiResourcePreference: prefs.map((r) => ({ ...r, configID: 2 }) as Row),
      };
      const world = (noShow2025: boolean): Tables => {
        const t = studentTables([{ personID: 1, startDate: '2025-03-01' }, { personID: 2 }]);
        t.Enrollment!.push({ enrollmentID: 201, personID: 1, calendarID: 2, startDate: '2024-08-20', noShow: noShow2025 ? 1 : 0 });
        return { ...year2025, ...t };
      };
      h.world(world(false));
      await h.preload();
      const first = await h.sync();
      expect(first.code, first.stderr).to.equal(EXIT.ok);
      // Both years report participation 1001; the ODS has one record for its natural key, owned by the later year.
      expect(methods(first)).to.deep.equal(['POST', 'POST']);
      const shared = h.identity().filter((r) => r.sourceKey === sourceKey(1));
      expect(shared.map((r) => r.connection)).to.deep.equal(['1:2026']);
      expect(new Set(h.identity().map((r) => r.edfiId)).size).to.equal(h.identity().length);
      expect(h.store.count(RESOURCE)).to.equal(2);
      expect((h.lastRun().summary as { plan: { shared: number } }).plan.shared).to.equal(1);
      const warning = h.errors().find((e) => e.catalogueId === 'plan.shared-instance');
      expect(warning?.level).to.equal('warning');
      expect(warning?.message).to.match(/connections 1:2025, 1:2026 \(school years 2025, 2026\) send to one ODS instance \(http:\/\/127\.0\.0\.1:\d+\/data\/v3\)/);

      // The 2024-25 enrollment becomes No Show: 2024-25 no longer reports the record; 2025-26 still does.
      h.world(world(true));
      const run = await h.sync();
      expect(run.code, run.stderr).to.equal(EXIT.ok);
      expect(writes(run.requests)).to.deep.equal([]);
      expect(h.store.get(RESOURCE, shared[0]!.edfiId!)).to.not.equal(undefined);
      expect(h.identity().filter((r) => r.sourceKey === sourceKey(1)).map((r) => r.connection)).to.deep.equal(['1:2026']);

      // Gone from Campus altogether: now it is deleted.
      h.world({ ...year2025, ...studentTables([{ personID: 1, noParticipation: true }, { personID: 2 }]) });
      const gone = await h.sync();
      expect(gone.code, gone.stderr).to.equal(EXIT.ok);
      expect(writes(gone.requests).map((r) => `${r.method} ${idOf(r)} ${r.status}`)).to.deep.equal([`DELETE ${shared[0]!.edfiId} 204`]);
      expect(h.store.count(RESOURCE)).to.equal(1);
      expect(h.identity().filter((r) => r.sourceKey === sourceKey(1))).to.deep.equal([]);
    });
  });
});

describe('sync end to end: the spec\'s Error Log', function () {
  this.timeout(30_000);
  let h: SyncHarness;

  afterEach(async function () {
    await h?.close();
  });

  async function setUp(list: StudentSpec[], extraTables: Tables = {}, preload = true): Promise<void> {
    h.world({ ...studentTables(list), ...extraTables });
    if (preload) await h.preload();
  }

  it('400 required field, found by the engine: a body the Ed-Fi schema rejects is held back, not sent, and logged', async function () {
    h = await SyncHarness.start();
    // A student without a State ID: studentReference.studentUniqueId is missing.
    await setUp([{ personID: 1, programID: 1 }, { personID: 2, programID: 2 }], {
      Person: [
        { personID: 1, stateID: null, lastName: 'Student1', firstName: 'Test' },
        { personID: 2, stateID: stateID(2), lastName: 'Student2', firstName: 'Test' },
      ],
    });
    const run = await h.sync();
    // Not sent, but every request the run made succeeded: "held back by a data problem", not "failed at the API".
    expect(run.code, run.stderr).to.equal(EXIT.heldBack);
    expect(writes(run.requests).map((r) => r.method)).to.deep.equal(['POST']);
    expect(h.store.count(RESOURCE)).to.equal(1);
    const e = expectLogged(h.errors(), 'core.error.required-field', {
      sourceKey: sourceKey(1), student: null, status: null, method: null, heldBack: 'edfi-schema', message: /studentUniqueId/,
      spec: `400: Validation of '${ENTITY}' failed. studentReference.studentUniqueId is required.`,
    });
    expect(JSON.parse(e.body ?? '{}')).to.not.have.nested.property('studentReference.studentUniqueId');
    expect(h.identityOf(sourceKey(1))).to.equal(undefined);
    expectNoSecret(h);
  });

  it('a value too long for its element, found by the engine: held back and logged as too long, not as missing', async function () {
    h = await SyncHarness.start();
    // A program name longer than Ed-Fi's 60 characters: programReference.programName is invalid.
    const longName = 'Welding Technology and Advanced Metal Fabrication for Industry Pathways';
    await setUp([{ personID: 1, programID: 1 }, { personID: 2, programID: 2 }], {
      Program: [{ programID: 1, districtID: 1, name: longName, code: 'WELD', type: 'CTE', category: 'Skilled Trades', stateCode: '48.0508' }],
    });
    const run = await h.sync();
    expect(run.code, run.stderr).to.equal(EXIT.heldBack);
    expect(writes(run.requests).map((r) => r.method)).to.deep.equal(['POST']);
    const found = h.errors().filter((x) => x.sourceKey === sourceKey(1));
    expect(found.map((x) => x.catalogueId)).to.deep.equal(['core.error.value-too-long']);
    const e = found[0]!;
    expect(e).to.include({ student: stateID(1), status: null, method: null, heldBack: 'edfi-schema' });
    expect(e.message).to.match(/programName must be a string with a maximum length of 60/);
    expect(e.fix).to.contain('Shorten the value in Campus');
    expect(JSON.parse(e.body ?? '{}')).to.have.nested.property('programReference.programName', longName);
  });

  it('400 required field, answered by the ODS: logged with the record, sent again on the next run', async function () {
    h = await SyncHarness.start();
    await setUp([{ personID: 1 }]);
    // An ODS whose model requires an element this resource's Core mapping leaves out (a state rule, say).
    refuseNext(h.server, 'post', 400, {
      message: messages.invalidRequest,
      modelState: { 'request.technicalSkillsAssessmentDescriptor': [messages.validationFailed(ENTITY, 'TechnicalSkillsAssessmentDescriptor is required')] },
    });
    const run = await h.sync();
    expect(run.code).to.equal(EXIT.apiFailed);
    expect(writes(run.requests).map((r) => `${r.method} ${r.status}`)).to.deep.equal(['POST 400']);
    expectLogged(h.errors(), 'core.error.required-field', {
      sourceKey: sourceKey(1), student: stateID(1), status: 400, method: 'POST', message: /TechnicalSkillsAssessmentDescriptor is required/,
      spec: `400: Validation of '${ENTITY}' failed. technicalSkillsAssessmentDescriptor is required.`,
    });
    expect(h.store.count(RESOURCE)).to.equal(0);
    const row = h.identityOf(sourceKey(1))!;
    expect(row.edfiId).to.equal(null);
    expect(row.lastOutcome).to.equal('error');

    const again = await h.sync();
    expect(again.code).to.equal(EXIT.ok);
    expect(writes(again.requests).map((r) => `${r.method} ${r.status}`)).to.deep.equal(['POST 201']);
    await expectInStep(h);
    expect(h.errors().every((e) => e.resolved === 1)).to.equal(true);
    expectNoSecret(h);
  });

  it('400 unresolved reference: a Resource Preference mapped to a descriptor value the ODS does not have (the spec\'s row, with the mapping as the fix)', async function () {
    h = await SyncHarness.start();
    await setUp([{ personID: 1, programID: 1 }, { personID: 2, programID: 2 }], {
      EdFiResourcePreference: [{ configID: 1, resource: RESOURCE, element: 'careerPathwayDescriptor', campusValue: 'WELD', edfiCode: 'Space Exploration' }],
    });
    const run = await h.sync();
    expect(run.code).to.equal(EXIT.apiFailed);
    expect(writes(run.requests).map((r) => `${r.method} ${r.status}`).sort()).to.deep.equal(['POST 201', 'POST 400']);
    expectLogged(h.errors(), 'core.error.unknown-descriptor', {
      sourceKey: sourceKey(1), student: stateID(1), status: 400, method: 'POST', message: /Unable to resolve value .*Space Exploration.* 'CareerPathwayDescriptor'/,
      spec: `400: '${ENTITY}' failed. CareerPathwayDescriptor reference could not be resolved.`,
    });
    expect(h.store.count(RESOURCE)).to.equal(1);
    expectNoSecret(h);
  });

  for (const status of [409, 400] as const) {
    it(`${status} unresolved reference: the student is not in the ODS (unresolvedReferenceStatus ${status}); sent once the student is`, async function () {
      h = await SyncHarness.start({ unresolvedReferenceStatus: status });
      await setUp([{ personID: 1 }, { personID: 2 }]);
      const studentId = h.store.findId('students', { studentUniqueId: stateID(1) });
      expect(h.store.delete('students', studentId!, { skipAuthorization: true }).ok).to.equal(true);

      const run = await h.sync();
      expect(run.code).to.equal(EXIT.apiFailed);
      expect(writes(run.requests).map((r) => `${r.method} ${r.status}`).sort()).to.deep.equal(['POST 201', `POST ${status}`]);
      expectLogged(h.errors(), 'core.error.unresolved-reference', {
        sourceKey: sourceKey(1), student: stateID(1), status, method: 'POST', message: /The value supplied for the related 'Student' resource does not exist/i,
        spec: `400: '${ENTITY}' failed. Student reference could not be resolved.`,
      });

      // "Resync the resource being mentioned in the error, then resync the errored resource."
      h.server.seed('students', { studentUniqueId: stateID(1), firstName: 'Test', lastSurname: 'Student1', birthDate: '2008-09-01' });
      const again = await h.sync();
      expect(again.code).to.equal(EXIT.ok);
      expect(methods(again)).to.deep.equal(['POST']);
      await expectInStep(h);
    });
  }

  it('403 authorization denied: the key/secret is not authorized for the LEA', async function () {
    h = await SyncHarness.start({ authorizedLeas: [7654321] });
    await setUp([{ personID: 1 }, { personID: 2 }]);
    const run = await h.sync({ quiet: false });
    expect(run.code).to.equal(EXIT.apiFailed);
    expect(writes(run.requests).map((r) => `${r.method} ${r.status}`)).to.deep.equal(['POST 403', 'POST 403']);
    for (const p of [1, 2]) {
      expectLogged(h.errors(), 'core.error.authorization-denied', { sourceKey: sourceKey(p), student: stateID(p), status: 403, method: 'POST', message: /^Authorization denied/ });
    }
    expect(h.store.count(RESOURCE)).to.equal(0);
    expect(run.stderr).to.match(/core\.error\.authorization-denied: 2/);
    expectNoSecret(h);
  });

  it('404 on DELETE: a record deleted from the ODS behind the engine\'s back is logged at level info, its identity row cleared, exit 0', async function () {
    h = await SyncHarness.start();
    await setUp([{ personID: 1 }, { personID: 2 }]);
    expect((await h.sync()).code).to.equal(EXIT.ok);
    const id = h.identityOf(sourceKey(2))!.edfiId!;
    expect(h.store.delete(RESOURCE, id, { skipAuthorization: true }).ok).to.equal(true);

    h.world(studentTables([{ personID: 1 }, { personID: 2, noShow: true }]));
    const run = await h.sync();
    expect(run.code, run.stderr).to.equal(EXIT.ok);
    expect(writes(run.requests).map((r) => `${r.method} ${idOf(r)} ${r.status}`)).to.deep.equal([`DELETE ${id} 404`]);
    expectLogged(h.errors(), 'core.error.delete-not-found', { sourceKey: sourceKey(2), student: stateID(2), status: 404, method: 'DELETE', level: 'info' });
    expect(h.identityOf(sourceKey(2))).to.equal(undefined);
    // "will not attempt to delete again"
    const again = await h.sync();
    expect(writes(again.requests)).to.deep.equal([]);
    await expectInStep(h);
  });

  it('records the ODS lost, then changed in Campus: the PUT (404) and the key change\'s DELETE (404) end in a new POST, exit 0', async function () {
    h = await SyncHarness.start();
    await setUp([{ personID: 1 }, { personID: 2 }, { personID: 3 }]);
    expect((await h.sync()).code).to.equal(EXIT.ok);
    const lost = [1, 2].map((p) => h.identityOf(sourceKey(p))!.edfiId!);
    for (const id of lost) expect(h.store.delete(RESOURCE, id, { skipAuthorization: true }).ok).to.equal(true);

    h.world(studentTables([{ personID: 1, endDate: '2026-05-20' }, { personID: 2, startDate: '2025-09-02' }, { personID: 3 }]));
    const run = await h.sync();
    expect(run.code, run.stderr).to.equal(EXIT.ok);
    expect(writes(run.requests).map((r) => `${r.method} ${r.status}`).sort()).to.deep.equal(['DELETE 404', 'POST 201', 'POST 201', 'PUT 404']);
    await expectInStep(h);
    for (const [i, p] of [1, 2].entries()) expect(h.identityOf(sourceKey(p))!.edfiId).to.not.equal(lost[i]);
    const logged = h.errors();
    expect(logged.find((e) => e.sourceKey === sourceKey(1))).to.include({ catalogueId: 'core.error.update-not-found', status: 404, method: 'PUT', level: 'warning', resolved: 1 });
    expectLogged(logged, 'core.error.delete-not-found', { sourceKey: sourceKey(2), student: stateID(2), status: 404, method: 'DELETE', level: 'info' });
    const again = await h.sync();
    expect(writes(again.requests)).to.deep.equal([]);
  });

  it('409 natural key conflict, Campus duplicates: the second record with the same natural key is held back and logged', async function () {
    h = await SyncHarness.start();
    const tables = studentTables([{ personID: 1 }, { personID: 2 }]);
    // Entered twice in Campus: same student, program and Start Date.
    tables.ProgramParticipation!.push({ participationID: 2001, personID: 1, programID: 2, startDate: '2025-08-25', endDate: '2026-05-20' });
    h.world(tables);
    await h.preload();
    const run = await h.sync();
    expect(run.code).to.equal(EXIT.heldBack);
    expect(methods(run)).to.deep.equal(['POST', 'POST']);
    expectLogged(h.errors(), 'core.error.natural-key-conflict', {
      sourceKey: 'participationID=2001', student: stateID(1), status: null, method: null, heldBack: 'duplicate-natural-key', message: /same natural key as participationID=1001/,
    });
    expect(h.identityOf('participationID=2001')).to.equal(undefined);
    expect(h.store.count(RESOURCE)).to.equal(2);
  });

  it('409 natural key conflict, answered by the ODS (another client created the same key at the same moment)', async function () {
    h = await SyncHarness.start();
    await setUp([{ personID: 1 }]);
    refuseNext(h.server, 'post', 409, {
      message: `A natural key conflict occurred when attempting to create a new resource '${ENTITY}' with a duplicate key. The duplicate keys and values are (BeginDate, EducationOrganizationId, ...).`,
    });
    const run = await h.sync();
    expect(run.code).to.equal(EXIT.apiFailed);
    expectLogged(h.errors(), 'core.error.natural-key-conflict', { sourceKey: sourceKey(1), student: stateID(1), status: 409, method: 'POST', message: /natural key conflict/ });
    const again = await h.sync();
    expect(again.code).to.equal(EXIT.ok);
    await expectInStep(h);
  });

  it('409 dependency on delete: the record stays in the ODS and in the identity mapping, and the DELETE is retried next run', async function () {
    h = await SyncHarness.start();
    await setUp([{ personID: 1 }, { personID: 2 }]);
    expect((await h.sync()).code).to.equal(EXIT.ok);
    const id = h.identityOf(sourceKey(2))!.edfiId!;
    // Nothing in the test server references this resource, so its store's DELETE is made to answer as an
    // ODS/API 6.x does when a (state extension) entity depends on the record.
    refuseNext(h.server, 'delete', 409, { message: messages.dependentItemExists('studentCTEProgramAssociationExtension') });
    h.world(studentTables([{ personID: 1 }, { personID: 2, noParticipation: true }]));
    const run = await h.sync();
    expect(run.code).to.equal(EXIT.apiFailed);
    expect(writes(run.requests).map((r) => `${r.method} ${idOf(r)} ${r.status}`)).to.deep.equal([`DELETE ${id} 409`]);
    expectLogged(h.errors(), 'core.error.delete-dependency', {
      sourceKey: sourceKey(2), student: stateID(2), status: 409, method: 'DELETE', message: /cannot be deleted because it is a dependency/,
      spec: "409: The resource (or a subordinate entity of the resource) cannot be deleted because it is a dependency of the 'studentCTEProgramAssociationExtension' entity.",
    });
    expect(h.store.get(RESOURCE, id)).to.not.equal(undefined);
    expect(h.identityOf(sourceKey(2))!.edfiId).to.equal(id);

    // "Then retry the delete on the original resource that errored."
    const again = await h.sync();
    expect(again.code).to.equal(EXIT.ok);
    expect(writes(again.requests).map((r) => `${r.method} ${idOf(r)} ${r.status}`)).to.deep.equal([`DELETE ${id} 204`]);
    expect(h.identityOf(sourceKey(2))).to.equal(undefined);
    await expectInStep(h);
  });

  it('500 that persists: retried, then logged as core.error.server-error; sent by the next run', async function () {
    h = await SyncHarness.start();
    await setUp([{ personID: 1 }]);
    h.server.faults.add({ kind: 'status', status: 500, times: Infinity, match: { method: 'POST', pathIncludes: SCPA_PATH } });
    const run = await h.sync({ quiet: false });
    expect(run.code).to.equal(EXIT.apiFailed);
    const posts = writes(run.requests);
    expect(posts.length).to.be.greaterThan(1);
    expect(posts.every((r) => r.method === 'POST' && r.status === 500)).to.equal(true);
    const e = expectLogged(h.errors(), 'core.error.server-error', { sourceKey: sourceKey(1), student: stateID(1), status: 500, method: 'POST', message: /An unexpected error occurred on the server/ });
    expect(h.errors().filter((x) => x.sourceKey === sourceKey(1))).to.have.length(1);
    expect(e.level).to.equal('error');
    expect(h.store.count(RESOURCE)).to.equal(0);

    h.server.faults.clear();
    const again = await h.sync();
    expect(again.code).to.equal(EXIT.ok);
    await expectInStep(h);
    expectNoSecret(h);
  });

  it('500 once, then success: no error log entry', async function () {
    h = await SyncHarness.start();
    await setUp([{ personID: 1 }]);
    h.server.faults.add({ kind: 'status', status: 500, times: 1, match: { method: 'POST', pathIncludes: SCPA_PATH } });
    const run = await h.sync();
    expect(run.code).to.equal(EXIT.ok);
    expect(writes(run.requests).map((r) => `${r.method} ${r.status}`)).to.deep.equal(['POST 500', 'POST 201']);
    expect(h.errors()).to.deep.equal([]);
    await expectInStep(h);
  });
});

for (const flavor of FLAVORS) describe(`sync end to end: faults on the way (${flavor})`, function () {
  this.timeout(30_000);
  let h: SyncHarness;
  const eight = students(8);

  afterEach(async function () {
    await h?.close();
  });

  async function faultyRun(addFaults: () => void, extra: { quiet?: boolean } = {}): Promise<SyncRun> {
    h.world(studentTables(eight));
    await h.preload();
    addFaults();
    const run = await h.sync({ quiet: extra.quiet ?? false });
    expect(run.code, run.stderr).to.equal(EXIT.ok);
    expect(h.store.count(RESOURCE)).to.equal(8);
    await expectInStep(h);
    expect(h.errors()).to.deep.equal([]);
    expectNoSecret(h);
    return run;
  }

  it('500 twice, then success: retried, every record in the ODS, exit 0', async function () {
    h = await SyncHarness.start({ flavor });
    const run = await faultyRun(() => h.server.faults.add({ kind: 'status', status: 500, times: 2, match: { method: 'POST', pathIncludes: SCPA_PATH } }));
    const statuses = writes(run.requests).map((r) => r.status);
    expect(statuses.filter((s) => s === 500)).to.have.length(2);
    expect(statuses.filter((s) => s === 201)).to.have.length(8);
  });

  it('429 with Retry-After: waits as asked, then every record in the ODS, exit 0', async function () {
    h = await SyncHarness.start({ flavor });
    const run = await faultyRun(() => h.server.faults.add({ kind: 'status', status: 429, retryAfterSeconds: 1, times: 1, match: { method: 'POST', pathIncludes: SCPA_PATH } }));
    const w = writes(run.requests);
    expect(w.filter((r) => r.status === 429)).to.have.length(1);
    expect(w.filter((r) => r.status === 201)).to.have.length(8);
    expect(run.ms).to.be.greaterThanOrEqual(950);
  });

  it('a POST answered without a Location header: said in the error log, not hidden; the record is sent again and the warning resolved', async function () {
    h = await SyncHarness.start({ flavor });
    h.world(studentTables(eight));
    await h.preload();
    // A gateway that answers 201 and drops the header (here the answer stands in for the server's: nothing stored).
    h.server.faults.add({ kind: 'answer', status: 201, body: {}, times: 1, match: { method: 'POST', pathIncludes: SCPA_PATH } });
    const first = await h.sync();
    expect(first.code, first.stderr).to.equal(EXIT.ok);
    const open = h.errors().filter((e) => e.catalogueId === 'emit.id-unknown' && e.resolved === 0);
    expect(open).to.have.length(1);
    expect(open[0]!.level).to.equal('warning');
    expect(open[0]!.fix).to.contain('edfi-sync resync');
    expect(h.identityOf(open[0]!.sourceKey!)?.edfiId ?? null).to.equal(null);
    const second = await h.sync();
    expect(writes(second.requests).map((r) => `${r.method} ${r.status}`)).to.deep.equal(['POST 201']);
    expect(h.store.count(RESOURCE)).to.equal(8);
    expect(h.errors().filter((e) => e.catalogueId === 'emit.id-unknown').map((e) => e.resolved)).to.deep.equal([1]);
  });

  it('a connection stopped one night (API unreachable) is over the next good night, also one whose resource is toggled off', async function () {
    h = await SyncHarness.start({ flavor });
    h.world(studentTables(eight));
    await h.preload();
    const down = await h.sync({ apiBase: 'http://127.0.0.1:1' });
    expect(down.code).to.equal(EXIT.unreachable);
    const stopped = h.errors().filter((e) => e.sourceKey === null && e.level === 'error');
    expect(stopped.map((e) => e.connection)).to.include('1:2026');
    // The resource is toggled off, the API still down: the connection sends nothing and needs no API (it is not
    // "unreachable"), and its stop is over.
    h.world({ ...studentTables(eight), EdFiResourceToggle: [{ configID: 1, resource: RESOURCE, enabled: 0 }] });
    const off = await h.sync({ apiBase: 'http://127.0.0.1:1' });
    expect(off.code, off.stderr).to.equal(EXIT.ok);
    expect(h.errors().filter((e) => e.sourceKey === null && e.level === 'error' && e.resolved === 0)).to.deep.equal([]);
    h.world(studentTables(eight));
    expect((await h.sync()).code).to.equal(EXIT.ok);
    expect(h.errors().filter((e) => e.sourceKey === null && e.level === 'error' && e.resolved === 0)).to.deep.equal([]);
  });

  it('connection reset: the request is sent again, every record in the ODS, exit 0', async function () {
    h = await SyncHarness.start({ flavor });
    const run = await faultyRun(() => h.server.faults.add({ kind: 'reset', times: 2, match: { method: 'POST', pathIncludes: SCPA_PATH } }));
    const w = writes(run.requests);
    expect(w.filter((r) => r.status === 0)).to.have.length(2);
    expect(w.filter((r) => r.status === 201)).to.have.length(8);
  });

  it('token expiry mid-run: a new token is fetched, every record in the ODS, exit 0', async function () {
    h = await SyncHarness.start({ flavor });
    const run = await faultyRun(() => {
      // Every token issued so far stops working after the third association reached the ODS, as on an ODS restart.
      let posts = 0;
      const original = h.store.post.bind(h.store);
      h.store.post = (...args: Parameters<EdFiStore['post']>) => {
        const out = original(...args);
        if (args[0] === RESOURCE && ++posts === 3) h.server.expireTokens();
        return out;
      };
    });
    const tokenRequests = run.requests.filter((r) => /\/token$/.test(r.path));
    expect(tokenRequests.length).to.be.greaterThanOrEqual(2);
    expect(tokenRequests.every((r) => r.status === 200)).to.equal(true);
    expect(writes(run.requests).filter((r) => r.status === 401).length).to.be.greaterThanOrEqual(1);
    expect(writes(run.requests).filter((r) => r.status === 201)).to.have.length(8);
  });

  it('credentials: the client secret is never in the state file, stderr or the error log, even when the server echoes it', async function () {
    h = await SyncHarness.start({ flavor });
    h.world(studentTables(eight));
    await h.preload();
    h.server.faults.add({ kind: 'reset', times: 1, match: { method: 'POST', pathIncludes: SCPA_PATH } });
    h.server.faults.add({ kind: 'expire-tokens', times: 1, match: { method: 'POST', pathIncludes: SCPA_PATH } });
    // A proxy's error page quoting what it was sent.
    refuseNext(h.server, 'post', 400, { message: `${messages.invalidRequest} client_secret=${secretForms()[0]!} Authorization: Basic ${secretForms()[2]}` });
    const run = await h.sync({ quiet: false });
    expect(run.code).to.equal(EXIT.apiFailed);
    expect(run.stderr).to.match(/Sync summary/);
    const logged = h.errors();
    expect(logged).to.have.length(1);
    expect(logged[0]!.message).to.include('[redacted]');
    expect(h.store.count(RESOURCE)).to.equal(7);
    expectNoSecret(h, run.stderr);
    // The scan covered the run history too: the run and its summary are there.
    expect(h.stateTexts().some((t) => t.includes('"failed":1'))).to.equal(true);
  });

  it('refused credentials: exit 6, nothing sent, the run stopped, and the wrong secret is not echoed either', async function () {
    h = await SyncHarness.start({ flavor });
    h.world(studentTables(eight));
    await h.preload();
    const wrong = 'e2e-Wrong-Secret-93be1a';
    process.env.EDFI_CLIENT_SECRET = wrong;
    const run = await h.sync({ quiet: false });
    expect(run.code).to.equal(EXIT.unreachable);
    expect(run.stderr).to.match(/refused its key and secret \(from environment EDFI_CLIENT_ID \/ EDFI_CLIENT_SECRET\): Ed-Fi authentication failed \(401 invalid_client\)/);
    expect(writes(run.requests)).to.deep.equal([]);
    // The fix is about the key and secret, not the spec's 403 row (which says to resync linking resources).
    const stop = h.errors().find((e) => e.sourceKey === null && e.state === 'open' && /refused its key and secret/.test(e.message));
    expect(stop?.fix).to.contain('Double check your API credentials (key/secret) of this connection').and.not.contain('linking');
    expect(h.store.count(RESOURCE)).to.equal(0);
    expect(run.stderr).to.not.include(wrong);
    expect(h.stateTexts().filter((t) => t.includes(wrong))).to.deep.equal([]);
    expectNoSecret(h, run.stderr);
  });

  it('a key refused on a night with nothing to send: exit 6 all the same (the scheduler hears of it the first night)', async function () {
    h = await SyncHarness.start({ flavor });
    h.world(studentTables(eight));
    await h.preload();
    expect((await h.sync()).code).to.equal(EXIT.ok);
    const secret = process.env.EDFI_CLIENT_SECRET;
    process.env.EDFI_CLIENT_SECRET = 'e2e-Rotated-Secret-5c1d';
    try {
      const run = await h.sync({ quiet: false });
      expect(run.code).to.equal(EXIT.unreachable);
      expect(run.stderr).to.match(/refused its key and secret/);
      expect(writes(run.requests)).to.deep.equal([]);
    } finally {
      process.env.EDFI_CLIENT_SECRET = secret;
    }
    expect((await h.sync()).code).to.equal(EXIT.ok);
  });
});

describe('sync end to end: the run lock', function () {
  this.timeout(30_000);
  let h: SyncHarness;

  afterEach(async function () {
    await h?.close();
  });

  it('a lock held by a live run: refused with exit code 5 before anything is sent, and no file left open; runs once it is gone', async function () {
    h = await SyncHarness.start();
    h.world(studentTables(students(2)));
    await h.preload();
    // Another run, alive on this host (the process that started the tests), holds the lock.
    const db = openState(h.state);
    db.prepare('INSERT INTO lock (name, pid, host, started_at) VALUES (?, ?, ?, ?)').run('sync', process.ppid, hostname(), new Date().toISOString());
    db.close();
    const from = h.server.requests.length;
    const err = await h.sync().then(
      () => undefined,
      (e: unknown) => e as Error & { exitCode?: number },
    );
    expect(err?.exitCode).to.equal(EXIT.refused);
    expect(err?.message).to.match(new RegExp(`another run \\(pid ${process.ppid} `));
    expect(h.server.requests.slice(from)).to.deep.equal([]);
    // The refused run closed the state file: SQLite removes the write-ahead log when its last connection closes.
    expect(existsSync(`${h.state}-wal`), 'the refused run left the state file open').to.equal(false);

    const free = openState(h.state);
    free.prepare('DELETE FROM lock').run();
    free.close();
    const run = await h.sync();
    expect(run.code).to.equal(EXIT.ok);
    expect(methods(run)).to.deep.equal(['POST', 'POST']);
    expect(h.locks()).to.deep.equal([]);
  });
});

describe('sync end to end: the mass-delete guard', function () {
  this.timeout(30_000);
  let h: SyncHarness;

  afterEach(async function () {
    await h?.close();
  });

  it('a snapshot that lost the calendar: sync refuses with exit 5 and deletes nothing; with allowMassDelete it deletes', async function () {
    h = await SyncHarness.start();
    const sixty = students(60);
    h.world(studentTables(sixty));
    await h.preload();
    const first = await h.sync();
    expect(first.code, first.stderr).to.equal(EXIT.ok);
    expect(h.store.count(RESOURCE)).to.equal(60);

    // A broken export: the calendar is missing, so no enrollment is in the year any more.
    h.world({ ...studentTables(sixty), Calendar: [{ calendarID: 1, $delete: true }] }, { allowOrphans: true });
    expect(await h.desired()).to.deep.equal([]);
    const refused = await h.sync({ maxDeleteCount: 10 });
    expect(refused.code).to.equal(EXIT.refused);
    expect(refused.stderr).to.match(/Refusing to delete/);
    expect(refused.stderr).to.match(/connection 1:2026: 60 delete\(s\) of 60 mapped record\(s\); the limit is 10/);
    expect(writes(refused.requests)).to.deep.equal([]);
    expect(h.store.count(RESOURCE)).to.equal(60);
    expect(h.identity()).to.have.length(60);
    expect(h.identity().every((r) => r.lastOutcome === 'ok' && r.edfiId)).to.equal(true);

    const allowed = await h.sync({ maxDeleteCount: 10, allowMassDelete: true });
    expect(allowed.code, allowed.stderr).to.equal(EXIT.ok);
    expect(methods(allowed)).to.deep.equal(Array(60).fill('DELETE'));
    expect(h.store.count(RESOURCE)).to.equal(0);
    expect(h.identity()).to.deep.equal([]);
  });
});
