import Database from 'better-sqlite3';
import { expect } from 'chai';
import { sampleProject, type SampleProject } from './helpers/sample-project.js';

// `edfi-sync generate` in a project folder of its own: the project's profiles, and a state's own code lists.
describe('edfi-sync generate in a project with its own profiles', function () {
  let p: SampleProject;
  before(() => (p = sampleProject()));
  after(() => p.remove());

  it("sets up the project's profile, with codes from the state's own list for a descriptor in its own namespace", function () {
    p.write('profiles/sample/descriptors.yaml', 'descriptors:\n  - descriptor: CareerPathwayDescriptor\n    namespace: uri://sample.example.org/CareerPathwayDescriptor\n    values:\n      - { codeValue: Trades }\n      - { codeValue: Health }\n');
    p.edit('profiles/sample/profile.yaml', 'descriptorNamespaces:\n  default: uri://ed-fi.org', 'descriptorNamespaces:\n  default: uri://ed-fi.org\n  CareerPathwayDescriptor: uri://sample.example.org\ndescriptors:\n  - profiles/sample/descriptors.yaml');
    const out = p.cli('generate', '--students', '60', '--seed', '4', '--profile', 'sample', '--years', '2026', '--out', 'gen.sqlite');
    expect(out.status, out.stderr).to.equal(0);
    const db = new Database(p.path('gen.sqlite'), { readonly: true });
    try {
      expect(db.prepare('SELECT DISTINCT profile FROM EdFiConfiguration').pluck().all()).to.deep.equal(['sample']);
      const pathways = db.prepare("SELECT DISTINCT edfiCode FROM EdFiResourcePreference WHERE element = 'careerPathwayDescriptor' ORDER BY 1").pluck().all() as string[];
      expect(pathways.length).to.be.greaterThan(1);
      for (const code of pathways) expect(['Health', 'Trades', 'uri://sample.example.org/CareerPathwayDescriptor#Health', 'uri://sample.example.org/CareerPathwayDescriptor#Trades']).to.include(code);
      expect(pathways.some((c) => c.startsWith('uri://sample.example.org/'))).to.equal(true);
      // Program types stay in the Ed-Fi namespace, as the profile says; the fixture base's own preferences are copied.
      expect(db.prepare("SELECT DISTINCT edfiCode FROM EdFiResourcePreference WHERE element = 'programTypeDescriptor'").pluck().all()).to.include('Career and Technical Education');
      expect(db.prepare("SELECT count(*) FROM EdFiResourcePreference WHERE element = 'reasonExitedDescriptor' AND campusValue = 'Exited' AND edfiCode = 'Other'").pluck().get()).to.be.greaterThan(0);
    } finally {
      db.close();
    }
  });

  it('docs --check fails (exit 1) while the file is out of date, and passes once written', function () {
    const stale = p.cli('docs', '--out', 'profiles.md', '--check');
    expect(stale.status).to.equal(1);
    expect(stale.stdout).to.contain('profiles.md is out of date: run npx edfi-sync docs --out profiles.md');
    expect(p.cli('docs', '--out', 'profiles.md').status).to.equal(0);
    expect(p.cli('docs', '--out', 'profiles.md', '--check').status).to.equal(0);
  });
});
