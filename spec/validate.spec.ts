import { expect } from 'chai';
import { initProfile } from '../src/cli/commands/init-profile.js';
import { runFixtures } from '../src/fixtures/run-fixtures.js';
import { loadProfile } from '../src/profile/load-profile.js';
import { formatProblem } from '../src/util/errors.js';
import { validateProfile } from '../src/validate/validate-profile.js';
import { sampleProject, type SampleProject } from './helpers/sample-project.js';

describe('edfi-sync validate: the files the engine reads later, editor schema lines', function () {
  let p: SampleProject;
  beforeEach(() => (p = sampleProject()));
  afterEach(() => p.remove());
  const validate = (): { errors: string[]; warnings: string[] } => {
    const r = validateProfile(p.profileFile, p.dir);
    return { errors: r.errors.map(formatProblem), warnings: r.warnings.map(formatProblem) };
  };
  const lineOf = (rel: string, text: string): number => p.read(rel).split('\n').findIndex((l) => l.includes(text)) + 1;

  it('the sample is valid with no warning', function () {
    expect(validate()).to.deep.equal({ errors: [], warnings: [] });
  });

  it('a file without an editor schema line, or with the wrong one, is a warning with the line to add', function () {
    p.edit('rules/sample/rules.yaml', /^# yaml-language-server[^\n]*\n/, '');
    p.edit('profiles/sample/fixture-base.yaml', 'fixture-base.schema.json', 'fixture.schema.json');
    p.edit('mappings/sample/mapping.yaml', '../../schemas/', '../schemas/');
    const { errors, warnings } = validate();
    expect(errors).to.deep.equal([]);
    expect(warnings).to.deep.equal([
      "profiles/sample/fixture-base.yaml:1: the editor schema line names fixture.schema.json, but this is a fixture-base file (fixture-base.schema.json): '# yaml-language-server: $schema=../../schemas/fixture-base.schema.json'",
      "rules/sample/rules.yaml:1: no editor schema line: add '# yaml-language-server: $schema=../../schemas/rules.schema.json' as the first line so editors check this file as you type",
      "mappings/sample/mapping.yaml:1: the editor schema line points at ../schemas/mapping.schema.json, which does not exist from here: '# yaml-language-server: $schema=../../schemas/mapping.schema.json'",
    ].sort((a, b) => warnings.indexOf(a) - warnings.indexOf(b)));
    expect(warnings).to.have.length(3);
    const cli = p.cli('validate', '--profile', 'sample');
    expect(cli.status).to.equal(0);
    expect(cli.stdout).to.contain('rules/sample/rules.yaml:1: warning: no editor schema line').and.to.contain('OK: 1 profile(s) valid: sample (3 warning(s))');
  });

  it('fixture-base.yaml is checked against its schema, and its descriptor values against the published lists', function () {
    p.edit('profiles/sample/fixture-base.yaml', 'campusValue: Exited, edfiCode: Other', 'campusValue: Exited, edfiCode: Finished');
    const { errors } = validate();
    expect(errors).to.have.length(1);
    expect(errors[0]).to.match(new RegExp(`^profiles/sample/fixture-base\\.yaml:${lineOf('profiles/sample/fixture-base.yaml', 'Finished')}:\\d+: reasonExitedDescriptor 'Finished' is sent as uri://ed-fi\\.org/ReasonExitedDescriptor#Finished, which is not a published ReasonExitedDescriptor value \\(the ODS would refuse it\\); values: Died or is permanently incapacitated, `));
    p.edit('profiles/sample/fixture-base.yaml', 'edfiCode: Finished', 'edfiCod: Finished');
    expect(validate().errors.join('\n')).to.contain(`profiles/sample/fixture-base.yaml:${lineOf('profiles/sample/fixture-base.yaml', 'edfiCod:')}:7: tables.EdFiResourcePreference.0: unknown property 'edfiCod'`);
  });

  it("descriptors.yaml is checked against its schema and against the profile's namespace for the descriptor", function () {
    p.write('profiles/sample/descriptors.yaml', '# yaml-language-server: $schema=../../schemas/descriptors.schema.json\ndescriptors:\n  - descriptor: ReasonExitedDescriptor\n    namespace: uri://sample.example.org/ReasonExitedDescriptor\n    values:\n      - { codeValue: Other, description: Other }\n      - { code: Moved }\n');
    p.edit('profiles/sample/profile.yaml', 'errors:\n  - profiles/sample/errors.yaml', 'descriptors:\n  - profiles/sample/descriptors.yaml\nerrors:\n  - profiles/sample/errors.yaml');
    const first = validate().errors.join('\n');
    expect(first).to.contain("profiles/sample/descriptors.yaml:7:9: descriptors.0.values.1: missing required property 'codeValue'");
    p.edit('profiles/sample/descriptors.yaml', '      - { code: Moved }\n', '');
    expect(validate().errors.join('\n')).to.contain('profiles/sample/descriptors.yaml:4:16: namespace uri://sample.example.org/ReasonExitedDescriptor is not where the profile sends ReasonExitedDescriptor (uri://ed-fi.org/ReasonExitedDescriptor)');
    p.edit('profiles/sample/profile.yaml', 'descriptorNamespaces:\n  default: uri://ed-fi.org', 'descriptorNamespaces:\n  default: uri://ed-fi.org\n  ReasonExitedDescriptor: uri://sample.example.org');
    expect(validate()).to.deep.equal({ errors: [], warnings: [] });
  });

  it('a fixture with an unknown column is an error of validate, not only of test', function () {
    p.edit('profiles/sample/fixtures/01-sent.yaml', "{ personID: 10, stateID: '1000000010' }", "{ personID: 10, stateId: '1000000010' }");
    expect(validate().errors).to.deep.equal([`profiles/sample/fixtures/01-sent.yaml:${lineOf('profiles/sample/fixtures/01-sent.yaml', 'stateId')}: table Person: unknown column 'stateId' (did you mean 'stateID'?). Valid columns: personID, stateID, studentNumber, lastName, firstName, birthDate, gender`]);
  });
});

describe('init-profile: TODO markers until the new state writes its own titles and spec lines', function () {
  let p: SampleProject;
  before(() => {
    p = sampleProject();
    initProfile('westhaven', 'sample', p.dir);
  });
  after(() => p.remove());
  const profileFile = (): string => p.path('profiles/westhaven/profile.yaml');

  it("turns every title and spec line into a TODO that keeps the copied text", function () {
    expect(p.read('profiles/westhaven/profile.yaml')).to.contain(`title: "TODO: the title of westhaven's specification (copied from sample: Sample profile of the engine's tests)"`);
    expect(p.read('rules/westhaven/rules.yaml')).to.contain(`spec: "TODO: quote westhaven's specification (copied from sample: Sample: a record whose Student Status is Withdrawn is not sent.)"`);
    expect(p.read('profiles/westhaven/fixtures/01-sent.yaml')).to.not.contain('TODO');
  });

  it('validate lists each as a warning with file, line and id; the copy is otherwise valid and passes its fixtures', async function () {
    const r = validateProfile(profileFile(), p.dir);
    expect(r.errors).to.deep.equal([]);
    const warnings = r.warnings.map(formatProblem);
    const specLines = ['profiles/westhaven/profile.yaml', 'rules/westhaven/rules.yaml', 'mappings/westhaven/mapping.yaml']
      .flatMap((f) => p.read(f).split('\n').map((l, i) => ({ f, l, i })).filter((x) => /^\s*(title|spec): "TODO/.test(x.l)));
    expect(warnings).to.have.length(specLines.length);
    expect(warnings).to.include(`rules/westhaven/rules.yaml:${specLines.find((x) => x.l.includes('Withdrawn'))!.i + 1}:11 [westhaven.exclude.withdrawn]: spec is still a TODO marker: write the text of your state's specification (the sentence this entry implements)`);
    expect(warnings).to.include(`profiles/westhaven/profile.yaml:5:8 [westhaven]: title is still a TODO marker: write the text of your state's specification (its title)`);
    const run = await runFixtures(loadProfile(profileFile(), p.dir), { cwd: p.dir });
    expect(run.cases.every((c) => c.passed)).to.equal(true);
  });

  it('a TODO marker that is written goes away', function () {
    p.edit('rules/westhaven/rules.yaml', /spec: "TODO: quote westhaven's specification \(copied from sample: Sample: a record whose Student Status is Withdrawn is not sent\.\)"/, 'spec: "Westhaven 2.3: a withdrawn student is not reported."');
    const warnings = validateProfile(profileFile(), p.dir).warnings.map(formatProblem);
    expect(warnings.some((w) => w.includes('westhaven.exclude.withdrawn'))).to.equal(false);
    expect(p.cli('validate', '--profile', 'westhaven').stdout).to.match(/OK: 1 profile\(s\) valid: westhaven \(\d+ warning\(s\)\)/);
  });

  it('--from is required: no profile is the default', function () {
    const out = p.cli('init-profile', 'eastmarch');
    expect(out.status).to.equal(2);
    expect(out.stderr).to.contain("required option '--from <profile>' not specified");
  });
});
