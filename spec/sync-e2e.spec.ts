// `sync` end to end: snapshots built from fixture rows, sent by runSync to the local Ed-Fi test server, and
// checked in the server's store, the state file (identity mapping, error log) and the server's request log.
import { expect } from 'chai';
import type { CatalogueEntry } from '../src/errors/catalogue.js';
import { EXIT } from '../src/cli/exit-codes.js';
import type { ErrorLogEntry } from '../src/state/error-log.js';
import { messages, type ErrorBody } from '../src/testserver/messages.js';
import type { EdFiStore } from '../src/testserver/store.js';
import type { JsonObject } from '../src/types.js';
import {
  coreProfile,
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
    cause: 'referenced from a different resource does not yet exist',
    fix: 'Resync the resource being mentioned in the error, then resync the errored resource.',
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
  want: { sourceKey: string; student: string | null; status: number; method?: string; level?: 'error' | 'info'; message?: RegExp },
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
  if (want.method) expect(e.method).to.equal(want.method);
  if (want.message) expect(e.message).to.match(want.message);
  expect(e.specMessage).to.equal(cat.specMessage);
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

/** Makes the next call of a store method answer with an error, as an ODS would; later calls go through. */
function refuseNext(store: EdFiStore, method: 'post' | 'put' | 'delete', status: number, body: ErrorBody): { refused: () => number } {
  let refused = 0;
  const failure = { ok: false as const, status, body };
  if (method === 'post') {
    const original = store.post.bind(store);
    store.post = (...args: Parameters<EdFiStore['post']>) => (refused++ === 0 ? failure : original(...args));
  } else if (method === 'put') {
    const original = store.put.bind(store);
    store.put = (...args: Parameters<EdFiStore['put']>) => (refused++ === 0 ? failure : original(...args));
  } else {
    const original = store.delete.bind(store);
    store.delete = (...args: Parameters<EdFiStore['delete']>) => (refused++ === 0 ? failure : original(...args));
  }
  return { refused: () => Math.min(refused, 1) };
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

describe('sync end to end against the Ed-Fi test server', function () {
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
      h = await SyncHarness.start();
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
      h = await SyncHarness.start();
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

    it('a program start date changed (natural key): DELETE of the old id, then POST; one record with the new beginDate', async function () {
      h = await SyncHarness.start();
      await firstSync(students(3));
      const oldId = h.identityOf(sourceKey(2))!.edfiId!;
      h.world(studentTables([{ personID: 1 }, { personID: 2, startDate: '2025-09-02' }, { personID: 3 }]));
      const run = await h.sync();
      expect(run.code, run.stderr).to.equal(EXIT.ok);
      const w = writes(run.requests);
      expect(w.map((r) => r.method)).to.deep.equal(['DELETE', 'POST']);
      expect(idOf(w[0]!)).to.equal(oldId);
      expect(w.map((r) => r.status)).to.deep.equal([204, 201]);
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
      h = await SyncHarness.start();
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
  });
});
