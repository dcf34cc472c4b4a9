import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { repoPath, repoRoot } from '../src/util/repo-root.js';
import { listProfiles } from '../src/validate/discover-profiles.js';

const NEW_STATES = ['westhaven', 'eastmarch'];

// The analyst's promise, kept in CI: a new state is files only. The project is copied to a scratch folder
// (sources, compiled dist, profiles, rules, mappings, schemas, docs; node_modules linked), two states are added
// there with the CLI and YAML alone, and the CI workflow's commands, the whole profile-facing test suite
// (spec/profiles) and every other test that goes over the project's profiles pass in that copy. The starting point is Core, as in the analyst guide's walk-through.

/** The Westhaven rule of docs/analyst-guide.md. */
const EXITED_RULE = `
  - id: westhaven.exclude.exited
    spec: "Westhaven CTE guide 2.3: Do not report a program record whose Student Status is Exited."
    event: { type: exclude, params: { reason: "the student exited the program" } }
    conditions:
      all:
        - { fact: studentStatus, operator: equal, value: Exited }
`;

const EXITED_FIXTURE = `# yaml-language-server: $schema=../../../schemas/fixture.schema.json
description: "Westhaven 2.3: a program record with Student Status Exited is not reported; one with Completer is"
profile: westhaven
base: standard
tables:
  Person:
    - { personID: 10, stateID: '1000000010' }
    - { personID: 11, stateID: '1000000011' }
  Enrollment:
    - { enrollmentID: 100, personID: 10, calendarID: 1, startDate: '2025-08-20' }
    - { enrollmentID: 101, personID: 11, calendarID: 1, startDate: '2025-08-20' }
  ProgramParticipation:
    - { participationID: 1000, personID: 10, programID: 1, startDate: '2025-08-25', studentStatus: Completer }
    - { participationID: 1001, personID: 11, programID: 1, startDate: '2025-08-25', studentStatus: Exited }
expect:
  operations:
    - { method: POST, sourceKey: participationID=1000 }
  excluded:
    - { sourceKey: participationID=1001, rule: westhaven.exclude.exited }
then:
  - description: the first student exits too, so what was sent is deleted
    tables:
      ProgramParticipation:
        - { $merge: true, participationID: 1000, studentStatus: Exited }
    expect:
      operations:
        - { method: DELETE, sourceKey: participationID=1000, rules: [westhaven.exclude.exited] }
`;

/** Eastmarch reports reasonExitedDescriptor (which Core does not) in a namespace of its own, with its own code list. */
const EASTMARCH_DESCRIPTORS = `# yaml-language-server: $schema=../../schemas/descriptors.schema.json
descriptors:
  - descriptor: ReasonExitedDescriptor
    namespace: uri://eastmarch.example.org/ReasonExitedDescriptor
    values:
      - { codeValue: Left the program, description: The student left the CTE program before completing it }
      - { codeValue: Transferred, description: The student transferred to another CTE program }
`;

const EASTMARCH_FIELD = `
  - id: eastmarch.map.reason-exited
    field: reasonExitedDescriptor
    spec: "Eastmarch CTE guide 4.1: reasonExitedDescriptor reports the Student Status mapped in Resource Preferences."
    expr: '$descriptor("ReasonExitedDescriptor", $pref("studentCTEProgramAssociations", "reasonExitedDescriptor", studentStatus))'
`;

const EASTMARCH_FIXTURE = `# yaml-language-server: $schema=../../../schemas/fixture.schema.json
description: "Eastmarch 4.1: an exited student's record reports the reason in Eastmarch's namespace; a code not on Eastmarch's list is held back"
profile: eastmarch
base: standard
tables:
  EdFiResourcePreference:
    - { configID: 1, resource: studentCTEProgramAssociations, element: reasonExitedDescriptor, campusValue: Graduated, edfiCode: Graduated }
  Person:
    - { personID: 10, stateID: '1000000010' }
    - { personID: 11, stateID: '1000000011' }
  Enrollment:
    - { enrollmentID: 100, personID: 10, calendarID: 1, startDate: '2025-08-20' }
    - { enrollmentID: 101, personID: 11, calendarID: 1, startDate: '2025-08-20' }
  ProgramParticipation:
    - { participationID: 1000, personID: 10, programID: 1, startDate: '2025-08-25', studentStatus: Exited }
    - { participationID: 1001, personID: 11, programID: 1, startDate: '2025-08-25', studentStatus: Graduated }
expect:
  operations:
    - { method: POST, sourceKey: participationID=1000, body: { reasonExitedDescriptor: uri://eastmarch.example.org/ReasonExitedDescriptor#Left the program } }
  issues:
    - { sourceKey: participationID=1001, error: eastmarch.error.unknown-descriptor }
`;

/** A computed fact (the CIP series) and an exclusion with \`any:\`: a fact the source query does not give. */
const EASTMARCH_FACT = `
facts:
  - id: eastmarch.fact.cip-series
    fact: cipSeries
    spec: "Eastmarch CTE guide 2.2: the CIP series is the part of the CIP code before the dot"
    expr: $substringBefore(cipCode, ".")
`;

const EASTMARCH_CIP_RULE = `
  - id: eastmarch.exclude.not-cte-cip
    spec: "Eastmarch CTE guide 2.2: a program of CIP series 32 (Basic Skills), or of the category Basic Skills, is not CTE and is not reported."
    event: { type: exclude, params: { reason: "the program is Basic Skills, not CTE" } }
    conditions:
      any:
        - { fact: cipSeries, operator: equal, value: "32" }
        - { fact: programCategory, operator: equal, value: Basic Skills }
`;

const EASTMARCH_CIP_FIXTURE = `# yaml-language-server: $schema=../../../schemas/fixture.schema.json
description: "Eastmarch 2.2: a program of CIP series 32 is not reported"
profile: eastmarch
base: standard
tables:
  Program:
    - { programID: 3, districtID: 1, name: Adult Basic Skills, code: WELD, type: CTE, category: Adult Education, stateCode: '32.0101' }
  Person:
    - { personID: 10, stateID: '1000000010' }
    - { personID: 11, stateID: '1000000011' }
  Enrollment:
    - { enrollmentID: 100, personID: 10, calendarID: 1, startDate: '2025-08-20' }
    - { enrollmentID: 101, personID: 11, calendarID: 1, startDate: '2025-08-20' }
  ProgramParticipation:
    - { participationID: 1000, personID: 10, programID: 3, startDate: '2025-08-25' }
    - { participationID: 1001, personID: 11, programID: 1, startDate: '2025-08-25' }
expect:
  operations:
    - { method: POST, sourceKey: participationID=1001 }
  excluded:
    - { sourceKey: participationID=1000, rule: eastmarch.exclude.not-cte-cip }
`;

function edit(file: string, from: string | RegExp, to: string): void {
  const text = readFileSync(file, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`edit of ${file} changed nothing (${String(from)})`);
  writeFileSync(file, next);
}

describe('a new state goes green in CI with files only (a copy of the project)', function () {
  this.timeout(900_000);
  let copy: string;
  const run = (cmd: string, args: string[]): SpawnSyncReturns<string> => spawnSync(cmd, args, { cwd: copy, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const cli = (...args: string[]): SpawnSyncReturns<string> => run(process.execPath, [join(copy, 'bin', 'edfi-sync.js'), ...args]);
  const at = (rel: string): string => join(copy, rel);
  const mocha = (...args: string[]): SpawnSyncReturns<string> =>
    run(process.execPath, [at('node_modules/mocha/bin/mocha.js'), '--no-config', '--timeout', '300000', '--reporter', 'spec', ...args]);
  const failuresOf = (out: SpawnSyncReturns<string>): string => out.stdout.split('\n').filter((l) => /failing|\d\)|Error/.test(l)).join('\n') + out.stderr;

  before(function () {
    copy = mkdtempSync(join(tmpdir(), 'edfi-new-state-'));
    for (const part of ['package.json', 'tsconfig.json', 'bin', 'src', 'spec', 'dist', 'profiles', 'rules', 'mappings', 'schemas', 'docs', '.github']) {
      cpSync(repoPath(part), at(part), { recursive: true });
    }
    symlinkSync(realpathSync(repoPath('node_modules')), at('node_modules'));
  });
  after(() => rmSync(copy, { recursive: true, force: true }));

  it('Westhaven: init-profile, a new rule, and CI fails until a fixture exercises it', function () {
    expect(cli('init-profile', 'westhaven', '--from', 'core').status).to.equal(0);
    appendFileSync(at('rules/westhaven/exclusions.yaml'), EXITED_RULE);
    const untested = cli('test', '--profile', 'westhaven');
    expect(untested.status, untested.stdout).to.equal(1);
    expect(untested.stdout).to.match(/FAIL {2}rule westhaven\.exclude\.exited \(rules\/westhaven\/exclusions\.yaml:\d+\) never stops a record in any fixture/);
    writeFileSync(at('profiles/westhaven/fixtures/40-exited.yaml'), EXITED_FIXTURE);
  });

  it('Eastmarch: its own descriptor namespace, a new descriptor element with its own code list, a computed fact and an any: rule', function () {
    expect(cli('init-profile', 'eastmarch', '--from', 'core').status).to.equal(0);
    writeFileSync(at('profiles/eastmarch/descriptors.yaml'), EASTMARCH_DESCRIPTORS);
    edit(at('profiles/eastmarch/profile.yaml'), 'descriptorNamespaces:\n  default: uri://ed-fi.org\n',
      'descriptorNamespaces:\n  default: uri://ed-fi.org\n  ReasonExitedDescriptor: uri://eastmarch.example.org\n\ndescriptors:\n  - profiles/eastmarch/descriptors.yaml\n');
    edit(at('mappings/eastmarch/studentCTEProgramAssociations.yaml'), /\nnotReported:/, `${EASTMARCH_FIELD}\nnotReported:`);
    edit(at('mappings/eastmarch/studentCTEProgramAssociations.yaml'), /\n {2}- \{ field: reasonExitedDescriptor, [^\n]*/, '');
    appendFileSync(at('profiles/eastmarch/fixture-base.yaml'),
      '    - { configID: 1, resource: studentCTEProgramAssociations, element: reasonExitedDescriptor, campusValue: Exited, edfiCode: Left the program }\n' +
      '    - { configID: 1, resource: studentCTEProgramAssociations, element: reasonExitedDescriptor, campusValue: Transferred, edfiCode: Transferred }\n');
    writeFileSync(at('profiles/eastmarch/fixtures/40-reason-exited.yaml'), EASTMARCH_FIXTURE);
    edit(at('profiles/eastmarch/profile.yaml'), /\nrules:\n/, `${EASTMARCH_FACT}\nrules:\n`);
    appendFileSync(at('rules/eastmarch/exclusions.yaml'), EASTMARCH_CIP_RULE);
    writeFileSync(at('profiles/eastmarch/fixtures/41-basic-skills-cip.yaml'), EASTMARCH_CIP_FIXTURE);
    const valid = cli('validate', '--profile', 'eastmarch');
    expect(valid.status, valid.stdout + valid.stderr).to.equal(0);
    expect(valid.stdout).to.match(/OK: 1 profile\(s\) valid: eastmarch \(\d+ warning\(s\)\)/);
    expect(valid.stdout).to.contain('warning: title is still a TODO marker');
  });

  it("the CI workflow's commands pass, after `edfi-sync docs` publishes the new profiles", function () {
    expect(cli('docs', '--out', 'docs/profiles.md').status).to.equal(0);
    const workflow = parse(readFileSync(at('.github/workflows/profiles.yml'), 'utf8')) as { jobs: Record<string, { steps: Array<{ run?: string }> }> };
    const commands = Object.values(workflow.jobs).flatMap((j) => j.steps.map((s) => s.run).filter((r): r is string => typeof r === 'string'));
    const engine = commands.filter((c) => c.startsWith('npx edfi-sync '));
    expect(engine.map((c) => c.split(' ')[2])).to.include.members(['validate', 'test']);
    // `npm ci` is the only other step: the copy's node_modules is linked instead.
    expect(commands.filter((c) => !engine.includes(c))).to.deep.equal(['npm ci']);
    for (const c of engine) {
      const out = cli(...c.slice('npx edfi-sync '.length).split(' '));
      expect(out.status, `${c}\n${out.stdout}${out.stderr}`).to.equal(0);
      if (c.includes(' test')) {
        const every = listProfiles(copy);
        expect(every).to.include.members(NEW_STATES);
        for (const name of every) expect(out.stdout).to.match(new RegExp(`^OK: ${name}: \\d+ of \\d+ fixture\\(s\\) passed, full coverage$`, 'm'));
      }
    }
  });

  it('the whole profile-facing test suite (spec/profiles) passes in the copy, over every profile', function () {
    const out = mocha('dist/spec/profiles/**/*.spec.js');
    expect(out.status, failuresOf(out)).to.equal(0);
    for (const name of NEW_STATES) {
      expect(out.stdout).to.contain(`profile ${name}: fixtures`);
      expect(out.stdout).to.contain(`${name}: valid, every file with its editor schema line`);
      expect(out.stdout).to.contain(`${name}: a generated snapshot is sent with no API error`);
    }
    expect(out.stdout).to.match(/ {2}\d+ passing/).and.not.to.match(/failing/);
  });

  // Tests elsewhere in spec/ that go over every profile of the project (compiled evaluation, computed facts,
  // validate's mistake checks, snapshot checks, ...) must hold for a new state too: each such file runs in the copy,
  // for the new states' own tests and for every test that names no profile (it may go over all of them inside).
  // The shipped profiles' own tests already ran in this suite.
  it('every other test that goes over the profiles passes in the copy for the new states', function () {
    const files = readdirSync(repoPath('spec'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.spec.ts') && !f.startsWith('profiles') && f !== 'new-state-in-ci.spec.ts')
      .filter((f) => /\b(listProfiles|projectProfiles|connectionOwners|loadProjectProfile)\(/.test(readFileSync(repoPath('spec', f), 'utf8')))
      .map((f) => `dist/spec/${f.replace(/\.ts$/, '.js')}`);
    expect(files).to.include('dist/spec/computed-facts.spec.js');
    const shipped = listProfiles(repoRoot());
    const ofNewStates = mocha(...files, '--grep', NEW_STATES.join('|'));
    expect(ofNewStates.status, failuresOf(ofNewStates)).to.equal(0);
    for (const name of NEW_STATES) expect(ofNewStates.stdout).to.contain(`profile ${name}`);
    const naming = mocha(...files, '--grep', `\\b(${[...shipped, ...NEW_STATES].join('|')})\\b`, '--invert');
    expect(naming.status, failuresOf(naming)).to.equal(0);
    expect(naming.stdout).to.match(/ {2}\d+ passing/);
  });
});
