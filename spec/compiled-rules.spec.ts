import { expect } from 'chai';
import { Operator } from 'json-rules-engine';
import { DECORATORS, OPERATORS } from '../src/language/catalogue.js';
import { CompiledRules } from '../src/rules/compiled-rules.js';
import { InterpretedRules } from '../src/rules/engine-rules.js';
import type { RuleDef } from '../src/rules/rule-file.js';
import type { JsonObject } from '../src/types.js';

// Every operator, decorator and condition structure, run by json-rules-engine and by the compiled rules on the
// same facts: decisions, compared values and errors must be the same.

function rule(id: string, conditions: unknown, type: 'trigger' | 'exclude' = 'exclude', priority?: number): RuleDef {
  return { id, spec: id, event: { type, params: { reason: `${id} reason` } }, conditions: conditions as RuleDef['conditions'], file: 'test.yaml', line: 1, priority };
}

async function both(rules: RuleDef[], facts: JsonObject, extra: Operator[] = []): Promise<void> {
  const engine = new InterpretedRules(rules, extra);
  const compiled = new CompiledRules(rules, extra);
  let want: unknown;
  let wantError: string | undefined;
  try {
    want = await engine.evaluate(facts, true);
  } catch (err) {
    wantError = (err as Error).constructor.name;
  }
  if (wantError) {
    expect(() => compiled.explain(facts), `engine threw ${wantError}`).to.throw();
    expect(() => compiled.decide(facts)).to.throw();
    return;
  }
  expect(compiled.explain(facts), JSON.stringify(facts)).to.deep.equal(want);
  expect(compiled.decide(facts)).to.deep.equal((want as { decision: unknown }).decision);
}

const samples: unknown[] = [
  undefined, null, 0, 1, 2, -1, 1.5, '1', '2', '', '  ', 'abc', 'Y', 'N', 'true', true, false, '2025-08-01', '2026-06-30', '2025-13-01',
  [], [1, 2], ['a', 'b'], [{ start: '2025-01-01', end: null }], { start: '2025-08-01', end: '2026-06-30' }, { start: null, end: null }, { a: 1 },
];

describe('compiled rules: every operator and decorator as json-rules-engine evaluates it', function () {
  this.timeout(120_000);

  for (const op of OPERATORS) {
    it(`${op.name} on every kind of fact and value`, async function () {
      const values = op.name === 'matches' ? ['^a', 'b$', '[0-9]', 'abc'] : samples;
      for (const value of values) {
        for (const fact of samples) {
          // Facts come from the snapshot and values from the rule file: never the same object (structuredClone).
          await both([rule('r', { all: [{ fact: 'x', operator: op.name, value: value ?? null }] })], fact === undefined ? {} : { x: structuredClone(fact) as never });
        }
      }
    });
  }

  for (const d of DECORATORS) {
    it(`${d.name}: on equal, in and overlapsPeriod`, async function () {
      const cases: Array<[string, unknown, unknown]> = [
        [`${d.name}:equal`, [1, 2], 1], [`${d.name}:equal`, 1, [1, 2]], [`${d.name}:equal`, 'a', 'a'], [`${d.name}:equal`, [], []],
        [`${d.name}:in`, ['a', 'c'], ['a', 'b']], [`${d.name}:in`, 'a', [['a'], ['b']]], [`${d.name}:greaterThan`, [1, 5], 2],
        [`${d.name}:overlapsPeriod`, [{ start: '2025-01-01', end: null }], { start: '2025-08-01', end: '2026-06-30' }],
        [`${d.name}:isBlank`, ['', 'x'], true], [`${d.name}:not:equal`, [1, 2], 2], [`not:${d.name}:equal`, [1, 2], 2],
      ];
      for (const [operator, fact, value] of cases) {
        await both([rule('r', { any: [{ fact: 'x', operator, value }] })], { x: fact as never });
      }
    });
  }
});

describe('compiled rules: condition structures as json-rules-engine evaluates them', function () {
  const facts: JsonObject = {
    a: 1, b: 'x', flag: 1, blank: null, period: { start: '2025-08-01', end: null }, configuredYear: { start: '2025-07-01', end: '2026-06-30' },
    list: [1, 2, 3], nested: { deep: { value: 5 }, items: [{ n: 1 }, { n: 2 }] },
  };

  it('all, any and not, nested, with one and several conditions', async function () {
    const leafT = { fact: 'a', operator: 'equal', value: 1 };
    const leafF = { fact: 'a', operator: 'equal', value: 2 };
    const structures = [
      { all: [leafT] }, { all: [leafF] }, { all: [leafT, leafF] }, { any: [leafF, leafT] }, { any: [leafF, leafF] }, { not: leafT }, { not: leafF },
      { all: [{ any: [leafF, leafT] }, { not: leafF }] }, { any: [{ all: [leafT, leafF] }, { not: { any: [leafF] } }] }, { not: { all: [leafT, leafT] } },
      { all: [] }, { any: [] }, { all: [{ all: [] }, leafT] }, { any: [{ not: { not: leafT } }] },
    ];
    for (const s of structures) await both([rule('r', s)], facts);
  });

  it('condition priorities: higher groups first, later groups only when the earlier did not decide', async function () {
    const structures = [
      { all: [{ fact: 'a', operator: 'equal', value: 2, priority: 10 }, { fact: 'b', operator: 'equal', value: 'x' }] },
      { all: [{ fact: 'a', operator: 'equal', value: 1, priority: 10 }, { fact: 'b', operator: 'equal', value: 'y', priority: 5 }, { fact: 'flag', operator: 'isTrue', value: true }] },
      { any: [{ fact: 'a', operator: 'equal', value: 1, priority: 3 }, { fact: 'b', operator: 'equal', value: 'y' }] },
      { any: [{ fact: 'a', operator: 'equal', value: 2, priority: 3 }, { all: [{ fact: 'b', operator: 'equal', value: 'x' }], priority: 2 }, { fact: 'blank', operator: 'isBlank', value: true }] },
      { all: [{ fact: 'a', operator: 'equal', value: 1, priority: 0 }, { fact: 'b', operator: 'equal', value: 'x', priority: 'high' }] },
    ];
    for (const s of structures) await both([rule('r', s)], facts);
  });

  it('values that name a fact, paths on facts and on fact values, missing facts', async function () {
    const structures = [
      { all: [{ fact: 'period', operator: 'overlapsPeriod', value: { fact: 'configuredYear' } }] },
      { all: [{ fact: 'period', operator: 'overlapsPeriod', value: { fact: 'nothing' } }] },
      { all: [{ fact: 'nested', path: '$.deep.value', operator: 'greaterThan', value: 4 }] },
      { all: [{ fact: 'nested', path: '$.items[*].n', operator: 'contains', value: 2 }] },
      { all: [{ fact: 'nested', path: '$.nope', operator: 'isBlank', value: true }] },
      { all: [{ fact: 'a', path: '$.x', operator: 'equal', value: 1 }] },
      { all: [{ fact: 'a', operator: 'lessThan', value: { fact: 'nested', path: '$.deep.value' } }] },
      { all: [{ fact: 'missing', operator: 'equal', value: { fact: 'alsoMissing' } }] },
      { all: [{ fact: 'list', operator: 'contains', value: 2, params: { ignored: true } }] },
      { all: [{ fact: 'constructor', operator: 'isBlank', value: true }] },
    ];
    for (const s of structures) await both([rule('r', s)], facts);
  });

  it('several rules, triggers and exclusions, rule priorities: decisions in file order', async function () {
    const rules = [
      rule('t1', { all: [{ fact: 'a', operator: 'equal', value: 1 }] }, 'trigger', 5),
      rule('e1', { all: [{ fact: 'flag', operator: 'isTrue', value: true }] }, 'exclude'),
      rule('t2', { any: [{ fact: 'b', operator: 'equal', value: 'y' }] }, 'trigger', 2),
      rule('e2', { not: { fact: 'blank', operator: 'isBlank', value: true } }, 'exclude', 9),
    ];
    await both(rules, facts);
    await both(rules, { ...facts, b: 'y' });
    await both(rules, { ...facts, b: 'y', flag: 0 });
    await both(rules.slice(1, 2), { ...facts, flag: 0 });
  });

  it('an operator error (in with a value that is not a list) fails both ways', async function () {
    await both([rule('r', { all: [{ fact: 'a', operator: 'in', value: null }] })], facts);
    await both([rule('r', { all: [{ fact: 'a', operator: 'matches', value: '(' }] })], { a: 'x' });
  });

  it('an operator only json-rules-engine knows is evaluated through the engine for that rule, and says so', async function () {
    const startsWith = new Operator('startsWith', (f: unknown, v: unknown) => typeof f === 'string' && f.startsWith(String(v)));
    const rules = [rule('custom', { all: [{ fact: 'b', operator: 'not:startsWith', value: 'x' }] }), rule('plain', { all: [{ fact: 'a', operator: 'equal', value: 1 }] })];
    const compiled = new CompiledRules(rules, [startsWith]);
    expect(compiled.interpreted.map((r) => r.ruleId)).to.deep.equal(['custom']);
    expect(compiled.interpreted[0]!.reason).to.contain("'not:startsWith'");
    for (const b of ['xyz', 'abc']) await both(rules, { ...facts, b }, [startsWith]);
  });
});
