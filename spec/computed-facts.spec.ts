import { expect } from 'chai';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import jsonata from 'jsonata';
import { parseDocument } from 'yaml';
import { listProfiles } from '../src/cli/commands/validate.js';
import { resourceFieldPaths } from '../src/edfi/field-paths.js';
import { addDays, daysBetween, earlierDate, laterDate } from '../src/mapping/dates.js';
import { mappingBindings } from '../src/mapping/functions.js';
import { Mapper } from '../src/mapping/mapper.js';
import { buildPlan } from '../src/plan/planner.js';
import { mappingInput } from '../src/plan/record-evaluator.js';
import { ComputedFactError } from '../src/profile/computed-facts.js';
import { loadProfile, queryColumnInfo, type LoadedProfile } from '../src/profile/load-profile.js';
import { CUSTOM_OPERATORS } from '../src/rules/operators.js';
import { CandidateReader } from '../src/snapshot/candidates.js';
import { connectionFactsOf, readConnections } from '../src/snapshot/connections.js';
import { generateSnapshot } from '../src/snapshot/generate.js';
import { openSnapshot } from '../src/snapshot/open.js';
import { readPreferenceTable } from '../src/snapshot/preferences.js';
import { emptyState, openState } from '../src/state/state-db.js';
import type { Decision, JsonObject } from '../src/types.js';
import { repoPath, repoRoot } from '../src/util/repo-root.js';

// Computed facts (`facts:` in a profile): JSONata over one record, evaluated as it is read, usable in rules and
// mappings like a column. Each shipped profile gets computed facts in a scratch copy, and the facts, the rules and
// the bodies that use them are checked record by record on a generated snapshot.

describe('date functions', function () {
  it('daysBetween: whole days, negative backwards, across months, leap days and years; nothing for a missing date', function () {
    expect(daysBetween('2025-08-01', '2025-08-31')).to.equal(30);
    expect(daysBetween('2025-08-31', '2025-08-01')).to.equal(-30);
    expect(daysBetween('2024-02-28', '2024-03-01')).to.equal(2);
    expect(daysBetween('2025-02-28', '2025-03-01')).to.equal(1);
    expect(daysBetween('2025-07-01', '2026-06-30')).to.equal(364);
    expect(daysBetween(null, '2025-01-01')).to.equal(undefined);
    expect(daysBetween('2025-01-01', undefined)).to.equal(undefined);
    expect(() => daysBetween('2025-02-30', '2025-03-01')).to.throw(/\$daysBetween: "2025-02-30" is not a date/);
    expect(() => daysBetween('08/01/2025', '2025-03-01')).to.throw(/not a date \(YYYY-MM-DD\)/);
  });

  it('addDays, laterDate, earlierDate', function () {
    expect(addDays('2025-12-31', 1)).to.equal('2026-01-01');
    expect(addDays('2024-03-01', -1)).to.equal('2024-02-29');
    expect(addDays(null, 5)).to.equal(undefined);
    expect(() => addDays('2025-01-01', 1.5)).to.throw(/whole number/);
    expect(laterDate('2025-08-20', '2025-08-25')).to.equal('2025-08-25');
    expect(laterDate(null, '2025-08-20', undefined)).to.equal('2025-08-20');
    expect(laterDate(['2025-01-01', '2025-09-01'], '2025-03-01')).to.equal('2025-09-01');
    expect(laterDate(null, undefined)).to.equal(undefined);
    expect(earlierDate('2025-08-20', '2025-08-25', '2024-12-31')).to.equal('2024-12-31');
    expect(() => earlierDate('2025-08-20', 'soon')).to.throw(/\$earlierDate: "soon" is not a date/);
  });

  it('are the same functions in a JSONata mapping as in a compiled one', async function () {
    const ctx = { preferences: new Map(), descriptorNamespaces: {}, yearStart: '2025-07-01', yearEnd: '2026-06-30' };
    const input = { a: '2025-08-20', b: '2026-01-15', list: [{ d: '2025-09-01' }, { d: '2025-10-01' }] };
    for (const expr of ['$daysBetween(a, b)', '$addDays(a, 30)', '$laterDate(a, b)', '$earlierDate(list.d, b)', '$laterDate(list.d)', '$overlaps(a, b)']) {
      const viaJsonata = await jsonata(expr).evaluate(input, mappingBindings(ctx));
      expect(viaJsonata, expr).to.not.equal(undefined);
    }
    expect(await jsonata('$laterDate(list.d)').evaluate(input, mappingBindings(ctx))).to.equal('2025-10-01');
  });

  it('date operators for rules compare dates, and are false for a missing or malformed date', function () {
    const { dateBefore, dateOnOrBefore, dateAfter, dateOnOrAfter } = CUSTOM_OPERATORS as Record<string, (f: unknown, v: unknown) => boolean>;
    expect(dateBefore!('2025-08-01', '2025-08-02')).to.equal(true);
    expect(dateBefore!('2025-08-02', '2025-08-02')).to.equal(false);
    expect(dateOnOrBefore!('2025-08-02', '2025-08-02')).to.equal(true);
    expect(dateAfter!('2026-01-01', '2025-12-31')).to.equal(true);
    expect(dateOnOrAfter!('2025-12-31', '2025-12-31')).to.equal(true);
    expect(dateBefore!(null, '2025-08-02')).to.equal(false);
    expect(dateAfter!('2025-8-3', '2025-08-02')).to.equal(false);
    expect(dateOnOrAfter!(20250803, '2025-08-02')).to.equal(false);
  });
});

interface Copy {
  dir: string;
  profileFile: string;
  profile: LoadedProfile;
}

/**
 * A scratch project with every profile, where profile `name` gets the given computed facts (after its own: its rules
 * may read them) and extra rules.
 */
function copyWithFacts(name: string, facts: Array<Record<string, string>>, rules: Array<Record<string, unknown>> = []): Copy {
  const dir = mkdtempSync(join(tmpdir(), 'edfi-computed-'));
  for (const folder of ['profiles', 'rules', 'mappings']) cpSync(repoPath(folder), join(dir, folder), { recursive: true });
  const profileFile = join(dir, 'profiles', name, 'profile.yaml');
  const doc = parseDocument(readFileSync(profileFile, 'utf8'));
  const own = (doc.get('facts') as { items?: unknown[] } | undefined)?.items ?? [];
  doc.set('facts', doc.createNode([...own, ...facts]));
  writeFileSync(profileFile, String(doc));
  if (rules.length > 0) {
    const original = loadProfile(name, repoRoot());
    const rulesFile = join(dir, original.def.rules[0]!);
    const rdoc = parseDocument(readFileSync(rulesFile, 'utf8'));
    for (const r of rules) rdoc.addIn(['rules'], rdoc.createNode(r));
    writeFileSync(rulesFile, String(rdoc));
  }
  return { dir, profileFile, profile: loadProfile(profileFile, dir) };
}

/** The facts these tests add (a profile's own computed facts come first and stay). */
const isProbe = (fact: string): boolean => fact.startsWith('probe');

describe('computed facts on generated snapshots of every profile', function () {
  this.timeout(180_000);
  let dir: string;
  let file: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'edfi-computed-snap-'));
    file = join(dir, 'generated.sqlite');
    generateSnapshot({ students: 600, seed: 77, out: file, profile: 'all' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of listProfiles(repoRoot())) {
    describe(`profile ${name}`, function () {
      const base = loadProfile(name, repoRoot());
      const columns = queryColumnInfo(base.sourceSql);
      const date = columns.find((c) => c.kind === 'date')!.name;
      const key = base.def.source.key[0]!;
      // Listed before the fact it reads: evaluated after it all the same.
      const facts = [
        { id: `${name}.fact.label`, spec: 'probe', fact: 'probeLabel', expr: `connection.districtNumber & "/" & $string(${key}) & (probeDaysLeft > 180 ? " long" : " short")` },
        { id: `${name}.fact.days-left`, spec: 'probe', fact: 'probeDaysLeft', expr: `$daysBetween(${date}, configuredYear.end)` },
        { id: `${name}.fact.later`, spec: 'probe', fact: 'probeLater', expr: `$laterDate(${date}, configuredYear.start)` },
        { id: `${name}.fact.excluded`, spec: 'probe', fact: 'probeExcluded', expr: `$substring($string(${key}), -1) = "7"` },
        { id: `${name}.fact.mapped`, spec: 'probe', fact: 'probeMapped', expr: '$exists($pref("programs", "programTypeDescriptor", "WELD"))' },
      ];
      const rules = [{
        id: `${name}.exclude.probe`, spec: 'probe', event: { type: 'exclude', params: { reason: 'probe: key ends in 7' } },
        conditions: { all: [{ fact: 'probeExcluded', operator: 'isTrue', value: true }] },
      }];

      it('computes each fact as JSONata itself would, in dependency order, from the row, the connection and its preferences', async function () {
        const copy = copyWithFacts(name, facts);
        const snapshot = openSnapshot(file);
        try {
          expect(copy.profile.computedFacts.names.filter(isProbe)).to.deep.equal(['probeDaysLeft', 'probeLabel', 'probeLater', 'probeExcluded', 'probeMapped']);
          expect(copy.profile.computedFacts.usesPreferences).to.equal(true);
          const reader = new CandidateReader(snapshot, copy.profile);
          const plainReader = new CandidateReader(snapshot, base);
          let n = 0;
          for (const conn of readConnections(snapshot, copy.profile)) {
            const ctx = { preferences: readPreferenceTable(snapshot, conn.configID), descriptorNamespaces: base.def.descriptorNamespaces ?? {}, yearStart: conn.yearStart, yearEnd: conn.yearEnd };
            const rows = [...plainReader.read(conn)];
            const withFacts = [...reader.read(conn)];
            for (const [i, row] of rows.entries()) {
              const input: JsonObject = { ...row.facts, connection: connectionFactsOf(conn), configuredYear: { start: conn.yearStart, end: conn.yearEnd } };
              for (const f of copy.profile.computedFacts.facts) {
                const want = await jsonata(f.expr).evaluate(input, mappingBindings(ctx));
                if (want !== undefined) input[f.fact] = JSON.parse(JSON.stringify(want));
                expect(withFacts[i]!.facts[f.fact], `${row.sourceKey} ${f.fact}`).to.deep.equal(want === undefined ? undefined : JSON.parse(JSON.stringify(want)));
              }
              n++;
            }
          }
          expect(n).to.be.greaterThan(100);
        } finally {
          snapshot.close();
          rmSync(copy.dir, { recursive: true, force: true });
        }
      });

      it('rules decide on a computed fact, and a mapping reports one', async function () {
        const copy = copyWithFacts(name, facts, rules);
        const mappingFile = join(copy.dir, copy.profile.def.mapping);
        const mdoc = parseDocument(readFileSync(mappingFile, 'utf8'));
        // A descriptor field of the resource the profile's mapping leaves empty (a new state may map any of them).
        const mapped = new Set(copy.profile.mapping.fields.map((f) => f.field));
        const schemaFree = resourceFieldPaths(copy.profile.def.resource.schema).find((f) => /^[a-z]\w*Descriptor$/.test(f) && !mapped.has(f));
        if (schemaFree === undefined) this.skip();
        mdoc.addIn(['fields'], mdoc.createNode({ id: `${name}.map.probe`, field: schemaFree, spec: 'probe', expr: 'probeLabel' }));
        writeFileSync(mappingFile, String(mdoc));
        const profile = loadProfile(copy.profileFile, copy.dir);
        const snapshot = openSnapshot(file);
        try {
          const decisions = new Map<string, Decision>();
          await buildPlan({ profile, snapshot, state: emptyState(), onDecision: (c, k, d) => decisions.set(`${c}/${k}`, d) });
          let excluded = 0;
          let kept = 0;
          for (const [k, d] of decisions) {
            const endsIn7 = k.endsWith('7');
            const probe = d.outcomes.find((o) => o.ruleId === `${name}.exclude.probe`)!;
            expect(probe.met, k).to.equal(endsIn7);
            if (endsIn7 && d.kind === 'excluded') expect(d.ruleIds).to.include(`${name}.exclude.probe`);
            if (probe.met) excluded++;
            if (d.kind === 'kept') kept++;
          }
          expect(excluded, 'records the computed fact excluded').to.be.greaterThan(0);
          expect(kept).to.be.greaterThan(0);

          const reader = new CandidateReader(snapshot, profile);
          const mapper = new Mapper(profile.mapping);
          let mapped = 0;
          for (const conn of readConnections(snapshot, profile).slice(0, 2)) {
            const ctx = { preferences: readPreferenceTable(snapshot, conn.configID), descriptorNamespaces: profile.def.descriptorNamespaces ?? {}, yearStart: conn.yearStart, yearEnd: conn.yearEnd };
            for (const c of reader.read(conn)) {
              const body = await mapper.map(mappingInput(c, {}), ctx);
              expect(body[schemaFree], c.sourceKey).to.equal(c.facts.probeLabel);
              expect(String(body[schemaFree])).to.match(/\/.* (long|short)$/);
              mapped++;
            }
          }
          expect(mapped).to.be.greaterThan(0);
        } finally {
          snapshot.close();
          rmSync(copy.dir, { recursive: true, force: true });
        }
      });

      it('a fact reading Resource Preferences: a change of them alone waits for a resync when the profile says so, else is evaluated at once', async function () {
        const prefFact = [{ id: `${name}.fact.pref`, spec: 'probe', fact: 'probeNoProgramType', expr: `$not($exists($pref("programs", "programTypeDescriptor", "WELD")))` }];
        const prefRule = [{
          id: `${name}.exclude.pref-probe`, spec: 'probe', event: { type: 'exclude', params: { reason: 'probe: WELD not mapped' } },
          conditions: { all: [{ fact: 'probeNoProgramType', operator: 'equal', value: true }] },
        }];
        const copy = copyWithFacts(name, prefFact, prefRule);
        const night1 = join(copy.dir, 'night1.sqlite');
        const night2 = join(copy.dir, 'night2.sqlite');
        cpSync(file, night1);
        cpSync(file, night2);
        const edit = new Database(night2);
        edit.exec("DELETE FROM EdFiResourcePreference WHERE resource = 'programs' AND campusValue = 'WELD'");
        edit.close();
        const stateFile = join(copy.dir, 'state.sqlite');
        const metCount = async (snap: string, reevaluate = false, file = stateFile): Promise<{ met: number; evaluated: number }> => {
          const snapshot = openSnapshot(snap);
          const state = openState(file);
          let met = 0;
          try {
            const plan = await buildPlan({ profile: copy.profile, snapshot, state, reevaluate, recordPreferences: true, onDecision: (_c, _k, d) => (met += d.outcomes.some((o) => o.ruleId === `${name}.exclude.pref-probe` && o.met) ? 1 : 0) });
            return { met, evaluated: plan.summary.evaluated };
          } finally {
            snapshot.close();
            state.close();
          }
        };
        try {
          const first = await metCount(night1);
          const again = await metCount(night1);
          expect(again.evaluated, 'an unchanged night evaluates nothing').to.equal(0);
          expect(again.met).to.equal(first.met);
          const waits = copy.profile.def.resync?.preferenceChanges;
          if (waits) {
            // "Changes to Resource Preferences mappings do NOT trigger. A manual resync must be performed."
            const changed = await metCount(night2);
            expect(changed.evaluated, 'the preference change alone evaluates nothing').to.equal(0);
            expect(changed.met).to.equal(first.met);
            const resynced = await metCount(night2, true);
            expect(resynced.evaluated, 'a resync evaluates every record').to.be.greaterThan(0);
            expect(resynced.met, 'the computed fact follows the preferences').to.be.greaterThan(first.met);
          }
          // Without the rule, every run follows today's preferences: the change re-evaluates at once.
          copy.profile.def.resync = { ...copy.profile.def.resync, preferenceChanges: undefined };
          const other = join(copy.dir, 'state-immediate.sqlite');
          const base = await metCount(night1, false, other);
          const changed = await metCount(night2, false, other);
          expect(changed.evaluated, 'the preference change re-evaluates the rules').to.be.greaterThan(0);
          expect(changed.met, 'the computed fact follows the preferences').to.be.greaterThan(base.met);
        } finally {
          rmSync(copy.dir, { recursive: true, force: true });
        }
      });

      it('a fact that fails on a record names the profile file, line and fact id; one reading preferences needs them', function () {
        const copy = copyWithFacts(name, [
          { id: `${name}.fact.bad-date`, spec: 'probe', fact: 'probeBad', expr: '$daysBetween("2025-02-30", configuredYear.end)' },
          { id: `${name}.fact.pref-only`, spec: 'probe', fact: 'probePref', expr: '$pref("programs", "programTypeDescriptor", "WELD")' },
        ]);
        try {
          const [bad, pref] = copy.profile.computedFacts.facts.filter((f) => isProbe(f.fact));
          const conn = { yearStart: '2025-07-01', yearEnd: '2026-06-30', districtNumber: '1' };
          let caught: unknown;
          try {
            copy.profile.computedFacts.apply({}, conn);
          } catch (err) {
            caught = err;
          }
          expect(caught).to.be.instanceOf(ComputedFactError);
          expect((caught as Error).message).to.match(new RegExp(`^profiles/${name}/profile\\.yaml:\\d+ \\[${name}\\.fact\\.bad-date\\] computed fact 'probeBad': \\$daysBetween: "2025-02-30" is not a date`));
          expect(bad!.fact).to.equal('probeBad');
          expect(pref!.fact).to.equal('probePref');
        } finally {
          rmSync(copy.dir, { recursive: true, force: true });
        }
        const prefCopy = copyWithFacts(name, [{ id: `${name}.fact.pref-only`, spec: 'probe', fact: 'probePref', expr: '$pref("programs", "programTypeDescriptor", "WELD")' }]);
        try {
          const conn = { yearStart: '2025-07-01', yearEnd: '2026-06-30' };
          expect(() => prefCopy.profile.computedFacts.apply({}, conn)).to.throw(/reads Resource Preferences \(\$pref\): the caller must pass/);
          const prefs = new Map([['programs', new Map([['programTypeDescriptor', new Map([['WELD', 'Career and Technical Education']])]])]]);
          expect(prefCopy.profile.computedFacts.apply({}, conn, { preferences: prefs }).probePref).to.equal('Career and Technical Education');
        } finally {
          rmSync(prefCopy.dir, { recursive: true, force: true });
        }
      });
    });
  }
});
