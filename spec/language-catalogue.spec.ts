import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import jsonata from 'jsonata';
import { DECORATORS, FUNCTIONS, JSONATA_FUNCTIONS, OPERATORS } from '../src/language/catalogue.js';
import { BINDING_NAMES, mappingBindings } from '../src/mapping/functions.js';
import { implementedOperators } from '../src/rules/operators.js';
import { repoPath } from '../src/util/repo-root.js';

// One catalogue (src/language/catalogue.ts) describes every operator and function; the engine, the editor schemas
// and the analyst docs must not drift from it.

function json(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(repoPath(path), 'utf8')) as Record<string, unknown>;
}

function squash(text: string): string {
  return text.replace(/\s+/g, ' ');
}

describe('the language catalogue', function () {
  it('names exactly the operators and decorators the rules implement', function () {
    const implemented = [...implementedOperators.builtIn, ...implementedOperators.custom].sort();
    expect(OPERATORS.map((o) => o.name).sort()).to.deep.equal(implemented);
    expect(DECORATORS.map((d) => d.name).sort()).to.deep.equal([...implementedOperators.decorators].sort());
    for (const o of OPERATORS) expect(o.origin === 'json-rules-engine', o.name).to.equal(implementedOperators.builtIn.includes(o.name));
  });

  it('names exactly the functions mappings and computed facts are given', function () {
    const ctx = { preferences: new Map(), descriptorNamespaces: {}, yearStart: '2025-07-01', yearEnd: '2026-06-30' };
    expect(Object.keys(mappingBindings(ctx)).sort()).to.deep.equal(FUNCTIONS.map((f) => f.name).sort());
    expect([...BINDING_NAMES].sort()).to.deep.equal(FUNCTIONS.map((f) => f.name).sort());
  });

  it("lists JSONata's own functions as JSONata has them", async function () {
    for (const name of JSONATA_FUNCTIONS) {
      expect(await jsonata(`$type($${name})`).evaluate({}), name).to.equal('function');
    }
    expect(await jsonata('$type($notAFunctionOfJsonata)').evaluate({})).to.equal(undefined);
  });

  it('rules.schema.json offers every operator with its catalogue description, and no other', function () {
    const schema = json('schemas/rules.schema.json') as { definitions: { condition: { oneOf: Array<{ properties?: Record<string, { anyOf?: Array<{ const?: string; description?: string; pattern?: string }> }> }> } } };
    const operator = schema.definitions.condition.oneOf[1]!.properties!.operator!;
    const consts = operator.anyOf!.filter((a) => a.const !== undefined);
    expect(consts.map((c) => [c.const, c.description])).to.deep.equal(OPERATORS.map((o) => [o.name, o.description]));
    const pattern = new RegExp(operator.anyOf!.find((a) => a.pattern)!.pattern!);
    for (const d of DECORATORS) for (const o of OPERATORS) expect(pattern.test(`${d.name}:${o.name}`), `${d.name}:${o.name}`).to.equal(true);
    expect(pattern.test('someFact:equals')).to.equal(false);
  });

  it('mapping.schema.json and the facts section of profile.schema.json describe every function they may call', function () {
    const mapping = json('schemas/mapping.schema.json') as { properties: { fields: { items: { properties: { expr: { description: string } } } } } };
    const profile = json('schemas/profile.schema.json') as { definitions: { computedFact: { properties: { expr: { description: string } } } } };
    const texts = { mappings: mapping.properties.fields.items.properties.expr.description, facts: profile.definitions.computedFact.properties.expr.description };
    for (const f of FUNCTIONS) {
      for (const where of ['mappings', 'facts'] as const) {
        const listed = texts[where].includes(`${f.signature}: ${f.description}`);
        expect(listed, `${f.signature} in the ${where} schema`).to.equal(f.usableIn.includes(where));
      }
    }
  });

  it('the analyst guide and the README describe every operator, decorator and function', function () {
    const guide = squash(readFileSync(repoPath('docs', 'analyst-guide.md'), 'utf8'));
    const readme = squash(readFileSync(repoPath('README.md'), 'utf8'));
    for (const o of OPERATORS) {
      expect(guide, `operator ${o.name} in the analyst guide`).to.contain(`\`${o.name}\``);
      expect(readme, `operator ${o.name} in the README`).to.contain(`\`${o.name}\``);
    }
    for (const d of DECORATORS) expect(guide, `decorator ${d.name}`).to.contain(`\`${d.name}:`);
    for (const f of FUNCTIONS) {
      expect(guide, `function ${f.signature} in the analyst guide`).to.contain(`\`${f.signature}\``);
      expect(readme, `function $${f.name} in the README`).to.contain(`$${f.name}`);
    }
  });
});
