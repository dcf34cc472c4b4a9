// The error log shows the current problems: one entry per record and problem (first seen, last seen, count),
// resolved when the record goes through; records the engine held back say so, with the check that held them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { errorsAsText } from '../src/cli/commands/errors.js';
import { EXIT } from '../src/cli/exit-codes.js';
import { fieldsNamed, fillSpecText, entityName } from '../src/errors/spec-text.js';
import { bodyHold } from '../src/plan/body-checks.js';
import { planIssue } from '../src/plan/issues.js';
import { SCHEMA_CHECK } from '../src/sanity/body-findings.js';
import { ErrorLog, type ErrorLogEntry } from '../src/state/error-log.js';
import { openState } from '../src/state/state-db.js';
import { runCli } from './helpers/cli.js';
import { loadProjectProfile, projectProfiles } from './helpers/profiles.js';
import { RESOURCE, sourceKey, stateID, studentTables, SyncHarness } from './helpers/sync-e2e.js';

const CORE_REQUIRED = "400: Validation of ' RESOURCE ' failed. FIELD is required.";

function apiError(over: Partial<ErrorLogEntry> = {}): ErrorLogEntry {
  return {
    runId: 1, at: '2026-03-01T02:00:00.000Z', connection: '1:2026', resource: RESOURCE, sourceKey: 'participationID=1', student: '100',
    method: 'POST', status: 500, level: 'error', message: 'An unexpected error occurred on the server.', catalogueId: 'core.error.server-error',
    specMessage: '500: Internal Server Error.', cause: 'c', fix: 'f', body: null, ...over,
  };
}

describe('error log: one entry per record and problem', function () {
  let dir: string;
  let db: Database.Database;
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'edfi-error-log-'));
    db = openState(join(dir, 'state.sqlite'));
  });
  afterEach(function () {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('seen, seen again, resolved: one entry with first seen, last seen and a count; a new entry if it comes back', function () {
    const log = new ErrorLog(db);
    log.add(apiError());
    log.add(apiError({ runId: 2, at: '2026-03-02T02:00:00.000Z', message: 'An unexpected error occurred on the server (again).' }));
    let [e, ...rest] = log.list({ state: 'open' });
    expect(rest).to.deep.equal([]);
    expect(e).to.include({ state: 'open', count: 2, firstSeen: '2026-03-01T02:00:00.000Z', lastSeen: '2026-03-02T02:00:00.000Z', firstRunId: 1, runId: 2 });
    expect(e!.message).to.contain('(again)');

    // Another problem of the same record is another entry.
    log.add(apiError({ status: 403, catalogueId: 'core.error.authorization-denied', message: 'Authorization denied.' }));
    expect(log.list({ state: 'open' })).to.have.length(2);

    log.resolve('1:2026', RESOURCE, 'participationID=1', 3);
    expect(log.list({ state: 'open' })).to.deep.equal([]);
    const history = log.list({ state: 'all' });
    expect(history.map((x) => [x.state, x.resolution, x.count])).to.deep.equal([['resolved', 'sent', 2], ['resolved', 'sent', 1]]);

    log.add(apiError({ runId: 4, at: '2026-03-04T02:00:00.000Z' }));
    [e] = log.list({ state: 'open' });
    expect(e).to.include({ count: 1, firstSeen: '2026-03-04T02:00:00.000Z' });
    expect(log.list({ state: 'all' })).to.have.length(3);
  });

  it('refused again for another reason on a later run: the earlier answer is no longer open; two answers of one run both are', function () {
    const log = new ErrorLog(db);
    log.add(apiError());
    const refused = apiError({ runId: 2, at: '2026-03-02T02:00:00.000Z', status: 400, catalogueId: 'core.error.required-field', message: 'beginDate is required' });
    log.supersede(refused);
    log.add(refused);
    expect(log.list({ state: 'open' }).map((x) => x.status)).to.deep.equal([400]);
    expect(log.list({ state: 'all' }).filter((x) => x.state === 'resolved').map((x) => [x.status, x.resolution])).to.deep.equal([[500, 'another problem since']]);
    const alsoNow = apiError({ runId: 2, at: '2026-03-02T02:01:00.000Z', status: 409, catalogueId: 'core.error.unresolved-reference', message: 'Student reference could not be resolved' });
    log.supersede(alsoNow);
    log.add(alsoNow);
    expect(log.list({ state: 'open' }).map((x) => x.status).sort()).to.deep.equal([400, 409]);
  });

  it('a record held back says "held back, not sent" with its check, no method or status; resolved when a complete run no longer finds it', function () {
    const log = new ErrorLog(db);
    const issue = {
      connection: '1:2026', resource: RESOURCE, sourceKey: 'participationID=7', student: '107', catalogueId: 'core.error.required-field',
      status: 400, method: 'POST' as const, message: 'the body does not pass the Ed-Fi schema: studentReference.studentUniqueId is required',
      checks: ['edfi-schema'],
    };
    const catalogue = { byId: () => ({ id: 'core.error.required-field', specMessage: CORE_REQUIRED, cause: 'c', fix: 'f' }), match: () => { throw new Error('not used'); } };
    log.addHeldBack([issue], catalogue as never, 1);
    log.addHeldBack([issue], catalogue as never, 2);
    const [e] = log.list({ state: 'open' });
    expect(e).to.include({ method: null, status: null, heldBack: 'edfi-schema', count: 2, runId: 2 });
    expect(e!.specMessage).to.equal("400: Validation of 'StudentCTEProgramAssociation' failed. studentReference.studentUniqueId is required.");
    expect(errorsAsText([e!])).to.contain('held back, not sent (check: edfi-schema)').and.not.to.contain('POST 400');
    // Not sent, so no status; `errors --status 400` finds it by the status of the spec's text it is logged under.
    expect(log.list({ state: 'open', status: 400 }).map((x) => x.errorId)).to.deep.equal([e!.errorId]);
    expect(log.list({ state: 'open', status: 409 })).to.deep.equal([]);
    // A connection-level problem (no spec text, no catalogue entry) shows no empty "spec:" line.
    const stopped = errorsAsText([{ ...e!, sourceKey: null, student: null, specMessage: null, catalogueId: null, cause: 'The connection has no usable key and secret.', fix: '' }]);
    expect(stopped).to.contain('cause:   The connection has no usable key and secret.');
    expect(stopped).to.not.match(/spec: |fix: /);
    // Run 3 of the connection did not find it again (the Campus data was fixed): resolved.
    expect(log.resolveNotSeen('1:2026', RESOURCE, 2)).to.equal(0);
    expect(log.resolveNotSeen('1:2026', RESOURCE, 3)).to.equal(1);
    expect(log.list({ state: 'all' })[0]).to.include({ state: 'resolved', resolution: 'not found again' });
  });

  it('information only ("this error can be ignored") is history at once, never a current problem', function () {
    const log = new ErrorLog(db);
    log.add(apiError({ method: 'DELETE', status: 404, level: 'info', catalogueId: 'core.error.delete-not-found', message: 'Resource to delete was not found.' }));
    expect(log.list({ state: 'open' })).to.deep.equal([]);
    expect(log.list({ state: 'all' })[0]).to.include({ state: 'resolved', resolution: 'information only' });
  });

  it('migrates a state file of the old log (a row per run) into entries, held-back rows losing their fake POST 400', function () {
    const file = join(dir, 'old.sqlite');
    // The schema before this migration: the first two migrations of the state file, as older versions left it.
    const old = new Database(file);
    old.exec(`CREATE TABLE error_log (error_id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER, at TEXT NOT NULL, connection TEXT, resource TEXT,
      source_key TEXT, student TEXT, method TEXT, status INTEGER, level TEXT NOT NULL, message TEXT NOT NULL, catalogue_id TEXT, spec_message TEXT,
      cause TEXT, fix TEXT, body TEXT, resolved INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE runs (run_id INTEGER PRIMARY KEY AUTOINCREMENT, command TEXT NOT NULL, profile TEXT, snapshot TEXT, started_at TEXT NOT NULL,
      finished_at TEXT, status TEXT NOT NULL, summary TEXT);`);
    const insert = old.prepare(`INSERT INTO error_log (run_id, at, connection, resource, source_key, student, method, status, level, message, catalogue_id, spec_message, resolved)
      VALUES (?, ?, '1:2026', '${RESOURCE}', ?, NULL, ?, ?, 'error', ?, ?, ?, ?)`);
    const schema = 'the body does not pass the Ed-Fi schema: studentReference.studentUniqueId is required';
    for (const run of [1, 2]) {
      for (const k of ['participationID=1', 'participationID=2', 'participationID=3', 'participationID=4']) {
        insert.run(run, `2026-03-0${run}T02:00:00.000Z`, k, 'POST', 400, schema, 'core.error.required-field', CORE_REQUIRED, 0);
      }
    }
    insert.run(1, '2026-03-01T02:00:00.000Z', 'participationID=9', 'POST', 500, 'boom', 'core.error.server-error', '500: Internal Server Error.', 1);
    old.pragma('user_version = 2');
    old.close();
    // The other tables of those migrations, so the migration runs on a complete old file.
    const fill = new Database(file);
    fill.exec(`CREATE TABLE identity_map (connection TEXT NOT NULL, resource TEXT NOT NULL, source_key TEXT NOT NULL, student TEXT, edfi_id TEXT,
      natural_key TEXT NOT NULL, body TEXT NOT NULL, body_hash TEXT NOT NULL, last_method TEXT, last_status INTEGER, last_outcome TEXT, last_sent_at TEXT,
      PRIMARY KEY (connection, resource, source_key));
      CREATE TABLE eval_cache (connection TEXT NOT NULL, resource TEXT NOT NULL, source_key TEXT NOT NULL, rules_key TEXT NOT NULL, decision TEXT NOT NULL,
      map_key TEXT, body TEXT, problems TEXT, body_hash TEXT, natural_key TEXT, PRIMARY KEY (connection, resource, source_key));
      CREATE TABLE excluded (run_id INTEGER NOT NULL, connection TEXT NOT NULL, source_key TEXT NOT NULL, student TEXT, kind TEXT NOT NULL, rule_ids TEXT NOT NULL, reasons TEXT NOT NULL);
      CREATE TABLE lock (name TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT, started_at TEXT NOT NULL);`);
    fill.close();

    const migrated = openState(file);
    try {
      const log = new ErrorLog(migrated);
      const open = log.list({ state: 'open' });
      // 8 rows for 4 records after two runs became 4 entries seen twice.
      expect(open.map((e) => [e.sourceKey, e.count, e.method, e.status, e.heldBack, e.firstSeen, e.lastSeen])).to.deep.equal(
        [1, 2, 3, 4].map((n) => [`participationID=${n}`, 2, null, null, 'edfi-schema', '2026-03-01T02:00:00.000Z', '2026-03-02T02:00:00.000Z']),
      );
      expect(log.list({ state: 'resolved' }).map((e) => [e.sourceKey, e.method, e.status])).to.deep.equal([['participationID=9', 'POST', 500]]);
      // The next night counts the same problem on the migrated entry.
      log.add({ ...apiError(), sourceKey: 'participationID=1', method: null, status: null, heldBack: 'edfi-schema', message: schema, catalogueId: 'core.error.required-field', specMessage: CORE_REQUIRED });
      expect(log.list({ state: 'open', sourceKey: 'participationID=1' }).map((e) => e.count)).to.deep.equal([3]);
    } finally {
      migrated.close();
    }
  });
});

describe("error log: the spec's text with RESOURCE and FIELD filled in", function () {
  it('names the entity of the resource', function () {
    expect(entityName('studentCTEProgramAssociations')).to.equal('StudentCTEProgramAssociation');
    expect(entityName('/ed-fi/localEducationAgencies')).to.equal('LocalEducationAgency');
  });

  it('finds the fields in the engine\'s and the ODS/API\'s words', function () {
    expect(fieldsNamed('the body does not pass the Ed-Fi schema: The field programReference.programName must be a string with a maximum length of 60')).to.deep.equal(['programReference.programName']);
    expect(fieldsNamed("The request is invalid. request.technicalSkillsAssessmentDescriptor: Validation of 'X' failed. TechnicalSkillsAssessmentDescriptor is required.")).to.deep.equal(['technicalSkillsAssessmentDescriptor']);
    expect(fieldsNamed('Data validation failed. $.studentReference.studentUniqueId: is required; $.beginDate: is required')).to.deep.equal(['studentReference.studentUniqueId', 'beginDate']);
    expect(fieldsNamed('An unexpected error occurred on the server.')).to.deep.equal([]);
    // ODS/API 5.x/6.x modelState: the model path and its sentence name one field, not "field".
    expect(fieldsNamed('The request is invalid. request.beginDate: The BeginDate field is required.')).to.deep.equal(['beginDate']);
    expect(fieldsNamed('The EndDate field is required.')).to.deep.equal(['EndDate']);
    expect(fieldsNamed("not on the state's published descriptor list: cteProgramServices[0].cteProgramServiceDescriptor: 'uri://dese.mo.gov/CTEProgramServiceDescriptor#13' is not a published CTEProgramServiceDescriptor value"))
      .to.deep.equal(['cteProgramServices[0].cteProgramServiceDescriptor']);
  });

  it('fills the referenced resource and the dependent entity where the text speaks of them', function () {
    expect(fillSpecText("400: ' RESOURCE ' failed. RESOURCE reference could not be resolved.", RESOURCE, "Unable to resolve value 'Space' to an existing 'CareerPathwayDescriptor' resource."))
      .to.equal("400: 'StudentCTEProgramAssociation' failed. CareerPathwayDescriptor reference could not be resolved.");
    expect(fillSpecText("409: ... a dependency of the 'RESOURCE' entity.", RESOURCE, "cannot be deleted because it is a dependency of the 'StudentSchoolAssociation' entity."))
      .to.equal("409: ... a dependency of the 'StudentSchoolAssociation' entity.");
    // The reference property as problem+json validationErrors and other implementations name it.
    const unresolved = "400: ' RESOURCE ' failed. RESOURCE reference could not be resolved.";
    expect(fillSpecText(unresolved, RESOURCE, "One or more references could not be resolved. See 'validationErrors'. $.programReference: Program is not resolved"))
      .to.equal("400: 'StudentCTEProgramAssociation' failed. Program reference could not be resolved.");
    expect(fillSpecText(unresolved, RESOURCE, 'studentReference could not be resolved'))
      .to.equal("400: 'StudentCTEProgramAssociation' failed. Student reference could not be resolved.");
    // A value held back by the state's published list names the descriptor, as the ODS would.
    expect(fillSpecText(unresolved, RESOURCE, "not on the state's published descriptor list: cteProgramServices[0].cteProgramServiceDescriptor: 'uri://dese.mo.gov/CTEProgramServiceDescriptor#13' is not a published CTEProgramServiceDescriptor value"))
      .to.equal("400: 'StudentCTEProgramAssociation' failed. CTEProgramServiceDescriptor reference could not be resolved.");
    expect(fillSpecText(CORE_REQUIRED, RESOURCE, 'The request is invalid.')).to.equal("400: Validation of 'StudentCTEProgramAssociation' failed. (a field the message does not name) is required.");
  });

  it('fills them from the ODS/API 7.x and DMS problem+json texts too', function () {
    const unresolved = "400: ' RESOURCE ' failed. RESOURCE reference could not be resolved.";
    expect(fillSpecText(unresolved, RESOURCE, "The referenced 'Student' item does not exist. [urn:ed-fi:api:data-conflict:unresolved-reference]"))
      .to.equal("400: 'StudentCTEProgramAssociation' failed. Student reference could not be resolved.");
    expect(fillSpecText(unresolved, RESOURCE, "Data validation failed. CareerPathwayDescriptor value 'uri://ed-fi.org/CareerPathwayDescriptor#Space' does not exist."))
      .to.equal("400: 'StudentCTEProgramAssociation' failed. CareerPathwayDescriptor reference could not be resolved.");
    const dependency = "409: The resource (or a subordinate entity of the resource) cannot be deleted because it is a dependency of the 'RESOURCE' entity.";
    expect(fillSpecText(dependency, RESOURCE, "The requested action cannot be performed because this item is referenced by an existing 'StudentCTEProgramAssociationService' item. [urn:ed-fi:api:conflict:dependent-item-exists]"))
      .to.equal("409: The resource (or a subordinate entity of the resource) cannot be deleted because it is a dependency of the 'StudentCTEProgramAssociationService' entity.");
    expect(fillSpecText(dependency, RESOURCE, 'The requested action cannot be performed because this item is referenced by existing StudentSectionAssociation item(s).'))
      .to.equal("409: The resource (or a subordinate entity of the resource) cannot be deleted because it is a dependency of the 'StudentSectionAssociation' entity.");
    // ODS/API 7.x's default text names no entity: the record's own resource is not it.
    expect(fillSpecText(dependency, RESOURCE, 'The requested action cannot be performed because this item is referenced by another item. [urn:ed-fi:api:data-conflict:dependent-item-exists]'))
      .to.equal('409: The resource (or a subordinate entity of the resource) cannot be deleted because it is a dependency of an entity the API did not name.');
  });
});

describe('error log end to end: the same held-back records on two nights', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async function () {
    await h?.close();
  });

  it('two nights, four records held back: four open entries seen twice; fixed in Campus: resolved; `errors` shows open ones, --all the history', async function () {
    h = await SyncHarness.start();
    const tables = studentTables([1, 2, 3, 4, 5].map((personID) => ({ personID })));
    // Four students without a State ID: their bodies fail the Ed-Fi schema (studentUniqueId is required).
    for (const p of tables.Person!.slice(0, 4)) p.stateID = null;
    h.world(tables, { allowOrphans: true });
    await h.preload();
    expect((await h.sync()).code).to.equal(EXIT.heldBack);
    expect((await h.sync()).code).to.equal(EXIT.heldBack);
    const open = h.errors().filter((e) => e.resolved === 0);
    expect(open.map((e) => [e.sourceKey, e.count, e.method, e.status, e.heldBack])).to.deep.equal(
      [1, 2, 3, 4].map((n) => [sourceKey(n), 2, null, null, 'edfi-schema']),
    );
    expect(open[0]!.specMessage).to.equal("400: Validation of 'StudentCTEProgramAssociation' failed. studentReference.studentUniqueId is required.");

    const text = await runCli(['errors', '--state', h.state]);
    expect(text.code).to.equal(0);
    expect(text.stdout).to.contain('OPEN ERROR held back, not sent (check: edfi-schema)').and.to.contain('2 times').and.not.to.match(/POST 400/);
    expect(text.stdout).to.contain('4 open entries');

    // Campus is fixed for two of them: they are sent, and their entries resolved.
    const fixed = studentTables([1, 2, 3, 4, 5].map((personID) => ({ personID })));
    for (const p of fixed.Person!.slice(2, 4)) p.stateID = null;
    h.world(fixed, { allowOrphans: true });
    await h.preload();
    expect((await h.sync()).code).to.equal(EXIT.heldBack);
    const after = h.errors();
    expect(after.filter((e) => e.resolved === 0).map((e) => [e.sourceKey, e.count])).to.deep.equal([[sourceKey(3), 3], [sourceKey(4), 3]]);
    expect(after.filter((e) => e.resolved === 1).map((e) => [e.sourceKey, e.resolution])).to.deep.equal([[sourceKey(1), 'sent'], [sourceKey(2), 'sent']]);
    expect(h.identityOf(sourceKey(1))!.student).to.equal(stateID(1));

    const all = await runCli(['errors', '--state', h.state, '--all', '--format', 'json']);
    expect((JSON.parse(all.stdout) as ErrorLogEntry[]).map((e) => e.state)).to.deep.equal(['resolved', 'resolved', 'open', 'open']);
    const openOnly = await runCli(['errors', '--state', h.state, '--format', 'json']);
    expect((JSON.parse(openOnly.stdout) as ErrorLogEntry[]).map((e) => e.sourceKey)).to.deep.equal([sourceKey(3), sourceKey(4)]);
  });

  it('`errors` on a state file that is not one names the path and exits 4; on a missing one too, without creating it', async function () {
    h = await SyncHarness.start();
    const { writeFileSync, existsSync } = await import('node:fs');
    const bad = join(h.dir, 'not-a-state.sqlite');
    writeFileSync(bad, 'this is not an SQLite database, it is a text file that was put here by mistake\n'.repeat(20));
    const run = await runCli(['errors', '--state', bad]);
    expect(run.code).to.equal(EXIT.input);
    expect(run.stderr).to.contain(`state file ${bad}: it is not a state file`);
    const missing = join(h.dir, 'missing.sqlite');
    const none = await runCli(['errors', '--state', missing]);
    expect(none.code).to.equal(EXIT.input);
    expect(none.stderr).to.contain(`state file ${missing} does not exist`);
    expect(existsSync(missing)).to.equal(false);
  });
});

// A value too long for its element is there, not missing: the spec's only validation row ("FIELD is required")
// would send the operator looking for a missing value. Held back by the schema check or refused by the ODS, it
// gets the catalogue's too-long entry, in every profile whose catalogue has one.
describe('error log: a value too long for its element is not logged as missing', function () {
  const heldMessage = 'The field programReference.programName must be a string with a maximum length of 60';
  it('a body held back only for lengths is a value-too-long problem; with a missing element, a required-field one', function () {
    expect(bodyHold([{ id: SCHEMA_CHECK, message: heldMessage }]).kind).to.equal('value-too-long');
    expect(bodyHold([{ id: SCHEMA_CHECK, message: heldMessage }, { id: SCHEMA_CHECK, message: 'beginDate is required' }]).kind).to.equal('required-field');
  });
  for (const name of projectProfiles()) {
    const profile = loadProjectProfile(name);
    if (!profile.catalogue.entries.some((e) => e.id.endsWith('.value-too-long'))) continue;
    it(`${name}: held back or refused by the ODS, the entry is the too-long one`, function () {
      const hold = bodyHold([{ id: SCHEMA_CHECK, message: heldMessage }]);
      const issue = planIssue(profile, { connection: '1:2026', sourceKey: 'k=1', student: null }, { method: 'POST', status: hold.status, message: hold.message, kind: hold.kind });
      expect(issue.catalogueId).to.match(/\.value-too-long$/);
      const ods = 'The request is invalid. request.programReference.programName: The field ProgramName must be a string with a maximum length of 60.';
      expect(profile.catalogue.match(400, 'POST', ods).id).to.match(/\.value-too-long$/);
      expect(profile.catalogue.match(400, 'POST', 'The request is invalid. request.beginDate: The BeginDate field is required.').id).to.match(/\.required-field$/);
      // Both at once: the missing element is the problem the spec names.
      expect(profile.catalogue.match(400, 'POST', `${ods} request.beginDate: The BeginDate field is required.`).id).to.match(/\.required-field$/);
    });
  }
});
