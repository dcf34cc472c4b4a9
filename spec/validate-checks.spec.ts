import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { listProfiles } from '../src/cli/commands/validate.js';
import { loadResourceSchema } from '../src/edfi/schemas.js';
import { Mapper, MappingError } from '../src/mapping/mapper.js';
import { loadProfile, queryColumnInfo, type LoadedProfile } from '../src/profile/load-profile.js';
import { ConfigError, type LocatedProblem } from '../src/util/errors.js';
import { repoPath, repoRoot } from '../src/util/repo-root.js';

// Each mistake an analyst can make in a rule, mapping or profile file, written into a temporary copy of every
// profile in profiles/: `validate` (loadProfile) must name the file, the line and the rule or field id.

const CLI = repoPath('bin', 'edfi-sync.js');

/** A scratch project folder with every profile, rule and mapping file of the repository. */
function copyProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'edfi-validate-'));
  for (const folder of ['profiles', 'rules', 'mappings']) cpSync(repoPath(folder), join(dir, folder), { recursive: true });
  return dir;
}

function problemsOf(load: () => unknown): LocatedProblem[] {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

/** Edits a YAML file through its document (comments and layout kept), returning the new text. */
function editYaml(file: string, change: (doc: ReturnType<typeof parseDocument>) => void): string {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  change(doc);
  const text = String(doc);
  writeFileSync(file, text);
  return text;
}

/** 1-based line of the first line of `text` containing `needle` (at or after line `from`). */
function lineOf(text: string, needle: string, from = 1): number {
  const lines = text.split('\n');
  for (let i = from - 1; i < lines.length; i++) if (lines[i]!.includes(needle)) return i + 1;
  throw new Error(`'${needle}' not found`);
}

function expectProblem(problems: LocatedProblem[], want: { file: string; line: number | [number, number]; id?: string; text: RegExp | string }): void {
  const [lo, hi] = Array.isArray(want.line) ? want.line : [want.line, want.line];
  const hit = problems.find(
    (p) => p.file.endsWith(want.file) && p.line !== undefined && p.line >= lo && p.line <= hi && (want.id === undefined || p.ruleId === want.id) &&
      (typeof want.text === 'string' ? p.message.includes(want.text) : want.text.test(p.message)),
  );
  expect(hit, `expected ${want.file}:${lo}-${hi} [${want.id ?? ''}] ${String(want.text)}\ngot:\n${problems.map((p) => `${p.file}:${p.line ?? '?'} [${p.ruleId ?? ''}] ${p.message}`).join('\n')}`).to.not.equal(undefined);
}

interface Setup {
  dir: string;
  name: string;
  profileFile: string;
  profile: LoadedProfile;
  rulesFile: string;
  rulesDisplay: string;
  mappingFile: string;
  mappingDisplay: string;
  columns: ReturnType<typeof queryColumnInfo>;
  load(): LocatedProblem[];
}

function setup(name: string): Setup {
  const dir = copyProject();
  const profileFile = join(dir, 'profiles', name, 'profile.yaml');
  const profile = loadProfile(profileFile, dir);
  const rulesDisplay = profile.def.rules[0]!;
  return {
    dir, name, profileFile, profile, rulesDisplay,
    rulesFile: join(dir, rulesDisplay),
    mappingFile: join(dir, profile.def.mapping),
    mappingDisplay: profile.def.mapping,
    columns: queryColumnInfo(profile.sourceSql),
    load: () => problemsOf(() => loadProfile(profileFile, dir)),
  };
}

/** Appends a rule with one condition to the profile's first rules file; returns the line of its id. */
function addRule(s: Setup, id: string, condition: Record<string, unknown>, type: 'trigger' | 'exclude' = 'exclude'): number {
  const text = editYaml(s.rulesFile, (doc) => {
    doc.addIn(['rules'], doc.createNode({ id, spec: 'probe', event: { type, params: { reason: 'probe' } }, conditions: { all: [condition] } }));
  });
  return lineOf(text, `id: ${id}`);
}

/** Appends a field to the mapping file; returns the line of its expression. */
function addField(s: Setup, id: string, field: string, expr: string): number {
  const text = editYaml(s.mappingFile, (doc) => {
    doc.addIn(['fields'], doc.createNode({ id, field, spec: 'probe', expr }));
  });
  return lineOf(text, 'expr:', lineOf(text, `id: ${id}`));
}

for (const name of listProfiles(repoRoot())) {
  describe(`validate catches mistakes in a copy of profile ${name}`, function () {
    this.timeout(60_000);
    let s: Setup;
    beforeEach(() => (s = setup(name)));
    afterEach(() => rmSync(s.dir, { recursive: true, force: true }));

    const schemaProperties = (): string[] => Object.keys((loadResourceSchema(s.profile.def.resource.schema) as { properties: Record<string, unknown> }).properties);
    const unmapped = (): string[] => schemaProperties().filter((p) => !p.startsWith('_') && p !== 'id' && !s.profile.mapping.fields.some((f) => f.field === p));
    const unmappedProperty = (): string => unmapped()[0]!;

    it('the copy itself is valid', function () {
      expect(s.load()).to.deep.equal([]);
    });

    it('overlapsPeriod compared with a number instead of { fact: configuredYear }', function () {
      const line = addRule(s, `${name}.probe.overlaps-number`, { fact: s.columns[0]!.name, operator: 'overlapsPeriod', value: 2026 });
      expectProblem(s.load(), { file: s.rulesDisplay, line: [line, line + 14], id: `${name}.probe.overlaps-number`, text: /'overlapsPeriod' compares with a period.*2026 is a number.*configuredYear/ });
    });

    it('isTrue and isBlank with a value that is not true/false', function () {
      const a = addRule(s, `${name}.probe.is-true-text`, { fact: s.columns[0]!.name, operator: 'isTrue', value: 'yes' });
      const b = addRule(s, `${name}.probe.is-blank-number`, { fact: s.columns[0]!.name, operator: 'isBlank', value: 1 });
      const problems = s.load();
      expectProblem(problems, { file: s.rulesDisplay, line: [a, a + 14], id: `${name}.probe.is-true-text`, text: /"yes" is a text, not true or false \(write value: true/ });
      expectProblem(problems, { file: s.rulesDisplay, line: [b, b + 14], id: `${name}.probe.is-blank-number`, text: '1 is a number, not true or false' });
    });

    it('lessThan with a non-number, in with a non-list, a number column compared with text', function () {
      const number = s.columns.find((c) => c.kind === 'number')!.name;
      const a = addRule(s, `${name}.probe.less-than-date`, { fact: s.columns[0]!.name, operator: 'lessThan', value: '2025-01-01' });
      const b = addRule(s, `${name}.probe.in-text`, { fact: s.columns[0]!.name, operator: 'in', value: 'abc' });
      const c = addRule(s, `${name}.probe.equal-text`, { fact: number, operator: 'equal', value: '1' });
      const problems = s.load();
      expectProblem(problems, { file: s.rulesDisplay, line: [a, a + 14], id: `${name}.probe.less-than-date`, text: /compares with a number.*not a number \(for dates use dateBefore/ });
      expectProblem(problems, { file: s.rulesDisplay, line: [b, b + 14], id: `${name}.probe.in-text`, text: /compares with a list.*"abc" is a text, not a list/ });
      expectProblem(problems, { file: s.rulesDisplay, line: [c, c + 14], id: `${name}.probe.equal-text`, text: `'${number}' is a number in the snapshot, so "1" (a text) never equals it` });
    });

    it('a matches regular expression that does not compile', function () {
      const text = s.columns.find((c) => c.kind === 'text')!.name;
      const line = addRule(s, `${name}.probe.bad-regex`, { fact: text, operator: 'matches', value: '([A-Z]' });
      expectProblem(s.load(), { file: s.rulesDisplay, line: [line, line + 14], id: `${name}.probe.bad-regex`, text: /"\(\[A-Z\]" is not a valid regular expression/ });
    });

    it('a decorated operator: someValue:equal wants a list of values', function () {
      const line = addRule(s, `${name}.probe.some-value`, { fact: s.columns[0]!.name, operator: 'someValue:equal', value: 'x' });
      expectProblem(s.load(), { file: s.rulesDisplay, line: [line, line + 14], id: `${name}.probe.some-value`, text: /'someValue:equal' compares with a list/ });
    });

    it('an empty rules file is an error that says what it means', function () {
      const last = s.profile.def.rules[s.profile.def.rules.length - 1]!;
      writeFileSync(join(s.dir, last), '# yaml-language-server: $schema=../../schemas/rules.schema.json\nrules: []\n');
      expectProblem(s.load(), { file: last, line: 2, text: /has no rules.*records it should stop are sent/ });
    });

    it('a rule reading a derived fact (made after the rules) or an unknown fact', function () {
      const derived = s.profile.def.derive?.[0]?.fact;
      const a = addRule(s, `${name}.probe.unknown-fact`, { fact: 'noSuchColumn', operator: 'isBlank', value: true });
      const b = derived ? addRule(s, `${name}.probe.derived`, { fact: derived, operator: 'equal', value: true }) : 0;
      const problems = s.load();
      expectProblem(problems, { file: s.rulesDisplay, line: [a, a + 14], id: `${name}.probe.unknown-fact`, text: "unknown fact 'noSuchColumn'" });
      if (derived) expectProblem(problems, { file: s.rulesDisplay, line: [b, b + 14], id: `${name}.probe.derived`, text: /is a derived fact .*rule cannot read it/ });
    });

    it('natural-key, key-change and immutable paths the mapping never writes or the schema lacks', function () {
      const constructorField = s.profile.mapping.fields.find((f) => (f.compiled.ast() as { type: string; value?: string }).value === '{')!;
      const text = editYaml(s.profileFile, (doc) => {
        doc.addIn(['naturalKey'], unmappedProperty());
        if (!doc.has('keyChangeFields')) doc.set('keyChangeFields', doc.createNode([]));
        doc.addIn(['keyChangeFields'], doc.createNode({ id: `${name}.key.probe`, spec: 'probe', path: `${constructorField.field}.link` }));
        if (!doc.has('immutableFields')) doc.set('immutableFields', doc.createNode([]));
        doc.addIn(['immutableFields'], doc.createNode({ id: `${name}.immutable.probe`, spec: 'probe', path: `${constructorField.field}.noSuchElement` }));
      });
      const problems = s.load();
      const profileDisplay = `profiles/${name}/profile.yaml`;
      expectProblem(problems, { file: profileDisplay, line: lineOf(text, `- ${unmappedProperty()}`), text: /naturalKey path .* is never written/ });
      expectProblem(problems, { file: profileDisplay, line: lineOf(text, `path: ${constructorField.field}.link`), id: `${name}.key.probe`, text: new RegExp(`never written: the mapping ${constructorField.id.replace(/\./g, '\\.')} .* without 'link'`) });
      expectProblem(problems, { file: profileDisplay, line: lineOf(text, `path: ${constructorField.field}.noSuchElement`), id: `${name}.immutable.probe`, text: 'is not in the Ed-Fi schema' });
    });

    it('a mapping expression reading a fact the source query does not return, or an unknown function', function () {
      const a = addField(s, `${name}.map.probe-fact`, unmappedProperty(), 'noSuchFact');
      const b = addField(s, `${name}.map.probe-function`, unmapped()[1]!, `$noSuchFunction(${s.columns[0]!.name})`);
      const problems = s.load();
      expectProblem(problems, { file: s.mappingDisplay, line: a, id: `${name}.map.probe-fact`, text: "unknown fact 'noSuchFact'" });
      expectProblem(problems, { file: s.mappingDisplay, line: b, id: `${name}.map.probe-function`, text: 'unknown function $noSuchFunction' });
    });

    it('a connection fact the connection query lacks, and $now (a different answer every night)', function () {
      const a = addField(s, `${name}.map.probe-connection`, unmappedProperty(), 'connection.noSuchSetting');
      const b = addField(s, `${name}.map.probe-now`, unmapped()[1]!, '$now() > "2025"');
      const problems = s.load();
      expectProblem(problems, { file: s.mappingDisplay, line: a, id: `${name}.map.probe-connection`, text: "unknown connection fact 'connection.noSuchSetting'" });
      expectProblem(problems, { file: s.mappingDisplay, line: b, id: `${name}.map.probe-now`, text: '$now() gives a different answer on every run' });
    });

    it('paths inside JSON columns, local variables and function parameters are not facts', function () {
      const json = s.profile.def.source.json?.[0];
      const exprs = [
        '($local := { "a": 1 }; $local.notAFact)',
        '(function($p) { $p.alsoNotAFact })({ "x": 1 })',
        json ? `${json}.anythingInside` : '"x"',
        json ? `$count(${json}[whatever = 1])` : '"y"',
      ];
      exprs.forEach((e, i) => addField(s, `${name}.map.probe-ok-${i}`, unmapped()[i]!, e));
      const problems = s.load().filter((p) => p.ruleId?.includes('probe-ok'));
      expect(problems.map((p) => p.message)).to.deep.equal([]);
    });

    it('a mapped field, or an object key, the Ed-Fi resource schema does not have', function () {
      const line = addField(s, `${name}.map.probe-field`, 'notAnEdFiElement', '"x"');
      // programParticipationStatuses: a collection every Data Standard since 4.0 has and no shipped profile reports.
      const keyLine = addField(s, `${name}.map.probe-key`, 'programParticipationStatuses', '[{ "participationStatusDescriptr": "x" }]');
      const problems = s.load();
      expectProblem(problems, { file: s.mappingDisplay, line: [line - 4, line], id: `${name}.map.probe-field`, text: "field 'notAnEdFiElement' is not a property of the Ed-Fi resource" });
      expectProblem(problems, { file: s.mappingDisplay, line: keyLine, id: `${name}.map.probe-key`, text: 'programParticipationStatuses.participationStatusDescriptr is not a property' });
    });

    it('computed facts: unknown facts, cycles, names taken by columns, expressions that cannot run as rows are read', function () {
      const column = s.columns[0]!.name;
      const derived = s.profile.def.derive?.[0]?.fact;
      const text = editYaml(s.profileFile, (doc) => {
        doc.set('facts', doc.createNode([
          { id: `${name}.fact.unknown`, spec: 'probe', fact: 'probeUnknown', expr: 'noSuchColumn + 1' },
          { id: `${name}.fact.a`, spec: 'probe', fact: 'probeA', expr: 'probeB' },
          { id: `${name}.fact.b`, spec: 'probe', fact: 'probeB', expr: 'probeA' },
          { id: `${name}.fact.clash`, spec: 'probe', fact: column, expr: '1' },
          { id: `${name}.fact.lambda`, spec: 'probe', fact: 'probeLambda', expr: '$replace($string(1), /1/, "2")' },
          ...(derived ? [{ id: `${name}.fact.derived`, spec: 'probe', fact: 'probeDerived', expr: derived }] : []),
        ]));
      });
      const problems = s.load();
      const file = `profiles/${name}/profile.yaml`;
      expectProblem(problems, { file, line: lineOf(text, 'noSuchColumn + 1'), id: `${name}.fact.unknown`, text: "unknown fact 'noSuchColumn'" });
      expectProblem(problems, { file, line: [lineOf(text, `id: ${name}.fact.a`), lineOf(text, `id: ${name}.fact.b`)], text: /cycle: probe[AB] -> probe[AB] -> probe[AB]/ });
      expectProblem(problems, { file, line: lineOf(text, `fact: ${column}`), id: `${name}.fact.clash`, text: 'is a column of the source query' });
      expectProblem(problems, { file, line: lineOf(text, '$replace($string(1)'), id: `${name}.fact.lambda`, text: /is not compiled\. Computed facts are evaluated as each row is read/ });
      if (derived) expectProblem(problems, { file, line: lineOf(text, `fact: probeDerived`) + 1, id: `${name}.fact.derived`, text: 'is a derived fact' });
    });

    it('validate on the command line reports them with exit code 3', function () {
      addRule(s, `${name}.probe.cli`, { fact: s.columns[0]!.name, operator: 'overlapsPeriod', value: 2026 });
      const cli = spawnSync(process.execPath, [CLI, 'validate', '--profile', s.profileFile], { cwd: s.dir, encoding: 'utf8' });
      expect(cli.status).to.equal(3);
      expect(cli.stdout).to.match(new RegExp(`${s.rulesDisplay.replace(/\//g, '\\/')}:\\d+:\\d+ \\[${name}\\.probe\\.cli\\]: 'overlapsPeriod' compares with a period`));
    });

    it('a mapping error at run time names the mapping file and field id, compiled or evaluated by JSONata', async function () {
      addField(s, `${name}.map.probe-compiled-throws`, unmappedProperty(), '$number("not a number")');
      const profile = loadProfile(s.profileFile, s.dir);
      const ctx = { preferences: new Map(), descriptorNamespaces: {}, yearStart: '2025-07-01', yearEnd: '2026-06-30' };
      const err = await new Mapper(profile.mapping).map({ connection: {} }, ctx).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(MappingError);
      expect((err as Error).message).to.contain(`${s.mappingDisplay}:`).and.contain(`[${name}.map.probe-compiled-throws]`);

      const s2 = setup(name);
      try {
        addField(s2, `${name}.map.probe-jsonata-throws`, unmappedProperty(), '(function($v) { $number($v) })("not a number")');
        const p2 = loadProfile(s2.profileFile, s2.dir);
        const err2 = await new Mapper(p2.mapping).map({ connection: {} }, ctx).then(() => undefined, (e: unknown) => e);
        expect(err2).to.be.instanceOf(MappingError);
        expect((err2 as Error).message).to.contain(`${s2.mappingDisplay}:`).and.contain(`[${name}.map.probe-jsonata-throws]`);
      } finally {
        rmSync(s2.dir, { recursive: true, force: true });
      }
    });
  });
}

describe('a body that fails the Ed-Fi schema names the mapping field behind each problem', function () {
  this.timeout(60_000);
  for (const name of listProfiles(repoRoot())) {
    it(`profile ${name}: "X is required" says which mapping field (file, line, id) gave nothing`, async function () {
      const { RecordEvaluator } = await import('../src/plan/record-evaluator.js');
      const profile = loadProfile(name, repoRoot());
      const evaluator = new RecordEvaluator(profile);
      const columns = queryColumnInfo(profile.sourceSql).map((c) => c.name);
      const facts = Object.fromEntries(columns.map((c) => [c, null]));
      const connection = { configID: 1, districtID: 1, endYear: 2026, profile: name, yearStart: '2025-07-01', yearEnd: '2026-06-30', resourceEnabled: true, facts: {} };
      const ctx = { preferences: new Map(), descriptorNamespaces: profile.def.descriptorNamespaces ?? {}, yearStart: '2025-07-01', yearEnd: '2026-06-30' };
      const { problems } = await evaluator.body({ connection, sourceKey: 'probe=1', facts }, {}, ctx);
      const required = problems.filter((p) => / is required/.test(p));
      expect(required.length, problems.join('\n')).to.be.greaterThan(0);
      for (const finding of required) {
        // Held-back problems carry the check that found them: "[hold edfi-schema] beginDate is required ...".
        const p = finding.replace(/^\[[^\]]*\] /, '');
        const field = p.split(' ')[0]!.split(/[.[]/)[0]!;
        const mapping = profile.mapping.fields.find((f) => f.field === field);
        if (mapping) expect(p).to.contain(`(mapped by ${mapping.id} at ${profile.def.mapping}:${mapping.line}`);
        else expect(p).to.match(/\((no field of|listed as not reported in) /);
      }
    });
  }
});
