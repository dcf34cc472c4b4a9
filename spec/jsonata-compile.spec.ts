import { expect } from 'chai';
import jsonata from 'jsonata';
import { bindingFrame, compileAst, type AstNode } from '../src/mapping/jsonata-compile.js';

// The compiled form of an expression must give what jsonata gives, value for value and error for error. Each
// expression below runs both ways on every input; the mapping-level proof over generated snapshots of every
// profile is in spec/compiled-mapping.spec.ts.

const inputs: Array<Record<string, unknown>> = [
  {
    a: 1, b: 2, s: 'Hello World', t: '  padded  text ', n: null, z: 0, f: 1.5, neg: -3, yes: true, no: false, empty: '', d1: '2025-08-01', d2: '2026-06-30',
    o: { x: 1, y: 'two', inner: { deep: [1, 2, 3] } },
    arr: [{ k: 'a', v: 1, start: '2025-01-01', end: null }, { k: 'b', v: 2, start: '2025-09-01', end: '2026-01-01' }, { k: 'c', v: 3, nested: [4, 5] }],
    nums: [3, 1, 2], strs: ['x', 'y'], one: [7], none: [], objs: [{ p: [1, 2] }, { p: [3] }, { p: 4 }],
    connection: { districtNumber: '1234567', endYear: 2026, yearStart: '2025-07-01', yearEnd: '2026-06-30' },
  },
  { a: 'text', b: null, s: '', arr: [], nums: [], o: {}, connection: { districtNumber: 'x' } },
  { arr: [{ k: 'only', v: 10 }], one: [[1, 2]], nums: [0], connection: {} },
  {},
];

const expressions = [
  // literals and paths
  '1', '"text"', 'true', 'false', 'null', 'a', 'b', 'missing', 'o.x', 'o.inner.deep', 'o.inner.deep[1]', 'o.inner.deep[-1]', 'o.nope.x',
  'arr', 'arr.k', 'arr.v', 'arr[0]', 'arr[0].k', 'arr[-1].k', 'arr[5]', 'arr[v > 1].k', 'arr[v = 2]', 'arr[k = "a"].start', 'arr.nested',
  'arr[nested].k', 'objs.p', 'objs.p[0]', 'one', 'one[0]', 'none', 'none[0]', 'nums[1]', 'nums[$ > 1]', 'arr[[0, 2]].k', 'arr[v].k',
  '$', '$.a', '$$.o.x', 'o.$', 'arr.$', 'strs', 'strs[0]', 'arr.(v * 10)', 'arr.{ "key": k }', 'arr[1].(k & "!")', '(a)', '(a)[0]',
  'connection.districtNumber', 'connection.nope',
  // arithmetic, comparison, logic
  'a + b', 'a - b', 'a * f', 'a / z', 'b % a', '-a', '-s', 'a + missing', 'a + s', 's + 1', 'a = 1', 'a != 1', 'a = missing', 'missing != 1',
  'o = {"x": 1, "y": "two", "inner": {"deep": [1, 2, 3]}}', 'nums = [3, 1, 2]', 'a < b', 'a <= 1', 's > "A"', 'a > s', 'missing < 1',
  'o < 1', 'd1 < d2', 'a and b', 'a or missing', 'z or empty', 'missing and a', 'yes and no', 'nums and strs', 'o and none',
  's & "!"', 'a & b', 'missing & "x"', 'o & ""', 'nums & ""', 'f & ""', '0.1 + 0.2', '(0.1 + 0.2) & ""',
  'a in [1, 2]', 'a in nums', 's in strs', '"x" in strs', 'missing in strs', 'a in 1',
  // conditions, blocks, variables
  'a ? "yes" : "no"', 'missing ? 1 : 2', 'z ? 1', 'empty ? 1 : 2', 'none ? 1 : 2', 'nums ? 1 : 2', 'o.nope ? 1 : 2',
  '($x := a + 1; $x * 2)', '($x := a; ($x := 5; $x); $x)', '($y := arr[0]; $y.k)', '$undefinedVar', '($a := nums; $a[1])',
  '($p := "k"; arr.$p)', '(a; b)', '()', '($x := 1)',
  // constructors
  '[a, b]', '[a, missing, b]', '[nums, strs]', '[[nums], strs]', '[]', '[arr.k]', '{ "a": a, "b": missing, "c": [1] }', '{}',
  '{ s: a }', '{ "x": a }.x', '{ "k": o }', '{ "n": n }', '{ "v": arr.v }', '{ k: v }', 'arr.{ k: v }', '[{ "x": a }][0].x',
  // built-ins
  '$string(a)', '$string(o)', '$string(f)', '$string(nums)', '$string(missing)', '$string(yes)', '$string(n)', '$string()', '$string(0.1 + 0.2)',
  '$number("12")', '$number("1.5e3")', '$number(s)', '$number(yes)', '$number(missing)', '$number(a)', '$number(connection.districtNumber)',
  '$boolean(a)', '$boolean(empty)', '$boolean(none)', '$boolean(o)', '$boolean(missing)', '$not(a)', '$not(missing)', '$not(z)',
  '$exists(a)', '$exists(missing)', '$exists(n)', '$type(a)', '$type(s)', '$type(n)', '$type(o)', '$type(nums)', '$type(missing)', '$type(yes)',
  '$count(nums)', '$count(missing)', '$count(a)', '$count(arr.k)', '$sum(nums)', '$sum(a)', '$sum(strs)', '$max(nums)', '$min(nums)', '$max(none)',
  '$average(nums)', '$lowercase(s)', '$uppercase(s)', '$lowercase(a)', '$lowercase(missing)', '$trim(t)', '$length(s)', '$length(a)',
  '$substring(s, 2)', '$substring(s, -3)', '$substring(s, 1, 3)', '$substring(s, 1, 0)', '$substringBefore(s, " ")', '$substringAfter(s, " ")',
  '$substringBefore(s, "zz")', '$contains(s, "World")', '$contains(s, "x")', '$contains(missing, "x")', '$join(strs, ",")', '$join(strs)',
  '$join(nums, ",")', '$pad(s, 15)', '$pad(s, -15, "#")', '$floor(f)', '$ceil(f)', '$round(f)', '$round(2.5)', '$round(3.14159, 2)', '$abs(neg)',
  '$keys(o)', '$keys(arr)', '$lookup(o, "x")', '$append(nums, strs)', '$append(a, b)', '$append(missing, a)', '$merge([{"a":1},{"b":2}])',
  '$reverse(nums)', '$distinct([1, 2, 1, "1"])', '$distinct(arr.k)', 's.$uppercase()', 'strs.$uppercase()', '$uppercase()',
  '$count(arr[v > 1])', '$exists(arr[k = "z"])', '$string(arr[0])',
  // our bindings
  '$pref("r", "e", a)', '$pref("r", "e", s)', '$descriptor("X", s)', '$overlaps(d1, d2)', '$daysBetween(d1, d2)', '$laterDate(d1, d2)',
  '($p := $pref("r", "e", a); $p ? [{ "v": $p }])', '$exists($pref("r", "e", missing))',
  // sequences and lists in depth
  'arr.v[0]', 'arr.nested[0]', 'arr.nested[-1]', '(arr.nested)[0]', 'objs.p[1]', 'arr[v > 1][0].k', 'arr[0][0]', 'arr.k[0]',
  'arr.{ "k": k, "n": nested }', '{ "all": arr.k }', '{ "first": arr[0] }', '[arr.v, 99]', '[[arr.v]]', '$count([arr.v])',
  'arr.k & ""', '"a" & arr.k', 'arr.v = [1, 2, 3]', 'arr.v = 1', 'arr.v in [2]', '$exists(arr.zz)', '$string(arr.v)', '$sum(arr.v)',
  '$max(arr.v)', '$count(objs.p)', '$join(arr.k, "-")', '$lowercase(strs)', '$number(nums)', '$substring(s, a)', 'o.inner.deep[$ > 1]',
  'arr[nested].nested', 'arr[$exists(end)].k', 'arr[end = null].k', '$.arr[0].k', '$$.arr.k', '($v := arr.v; $v[1])', '($v := arr; $v.k)',
  'o.{ "x": x, "y": y }', 'o.(x + 1)', 'arr.(v ? k : "none")', 'a ? [1] : [2]', 'none ? "yes"', '[] ? 1 : 2', 'o.inner = {"deep": [1, 2, 3]}',
  '1 / 3', '$string(a / z)', '"x" < 1', 'yes < 1', '$boolean(arr)', '$not(none)', '$substring("héllo😀 there", 4)', '$length("😀😀")',
  '$round(-2.5)', '$round(1.005, 2)', '$keys(arr[0])', '$merge([o, {"z": 3}])', '$pad("x", 3, "ab")', 'connection.districtNumber & ""',
  '$number(connection.districtNumber) + 1', '[1, [2, 3], [[4]]]', '{"a": [1], "b": []}', '$append([1], [])', '$append([], 1)',
  '$distinct(objs.p)', '{ "1": "one", "b": 2, "0": "zero" }', 'arr.{ k: v }.a', '{ "k": arr.k }.k[1]', 'arr[k in ["a", "c"]].v',
  '$count(arr[nested][0].nested)', '$string({ "n": 1.10, "m": 0.1 + 0.2 })', '$type(arr.k)', '$type(arr[0].k)', '$exists(arr[5].k)',
  '($a := 1; ($a := $a + 1); $a)', '($x := o; $x.inner.deep[2])', '$substringAfter(connection.districtNumber, "12")',
  '$contains(strs, "x")', '$string(["a", null, 1])', '[a, [b]][1]', 'nums.($ * 2)',
  // functions the expression defines, and the higher-order built-ins
  '$type(function($x) { $x })', '$string(function($x) { $x })', '$f := function() { 1 }', '($f := function($x) { $x * 2 }; $f(a))',
  '($f := function($x, $y) { $y }; $f(1))', '($f := function($n) { $n <= 1 ? 1 : $n * $f($n - 1) }; $f(5))',
  '($g := function($x) { $append($x, 1) }; $g(nums))', '($g := function($x) { $keys($x) }; $g(o))', '($g := function($x) { $keys($x) }; [$g(one)])',
  '$map(nums, function($v) { $v * 2 })', '$map(arr, function($v, $i) { $v.k & $string($i) })', '$map(arr, function($v, $i, $a) { $count($a) })',
  '$map(missing, function($v) { $v })', '$map(a, function($v) { $v + 1 })', '$map(nums, function($v) { $v > 1 ? $v })',
  '$filter(arr, function($v) { $v.v > 1 })', '$filter(nums, function($v, $i) { $i = 0 })', '$filter(strs, function($v) { $v = "x" })',
  '$single(arr, function($v) { $v.k = "b" })', '$single(arr, function($v) { $v.v > 1 })', '$single(arr, function($v) { false })', '$single(one)',
  '$reduce(nums, function($acc, $v) { $acc + $v })', '$reduce(nums, function($acc, $v) { $acc + $v }, 10)', '$reduce(none, function($a, $b) { $a }, "x")',
  '$reduce(missing, function($a, $b) { $a })', '$reduce(nums, function($a) { $a })', '$reduce(arr, function($k, $it, $i) { $append($k, $i) }, [])',
  '$reduce(arr, function($kept, $item) { $item.k in $kept.k ? $kept : $append($kept, $item) }, [])',
  '$sort(nums)', '$sort(strs)', '$sort(arr)', '$sort(arr, function($a, $b) { $a.v < $b.v })', '$sort(arr, function($a, $b) { $a.k > $b.k })',
  '$sort(one)', '$sort(missing)', '$sort([3, 1, 2, 5, 4, 9, 7], function($a, $b) { $a > $b })', '$sort([{"x": 2}, {"x": 1}, {"x": 2, "y": 1}], function($a, $b) { $a.x > $b.x })',
  '($p := function($e, $v) { $pref("r", $e, $v) }; $p("e", a))', '($items := [arr[$overlaps(start, end)].( $x := k; { "k": $x } )]; $count($items) > 0 ? $sort($items, function($a, $b) { $a.k < $b.k }))',
  '($f := function($x) { $ }; $f(1))', '($f := function($x) { $$.a }; $f(1))',
];

const notCompiled = [
  'arr^(v)', '*', '**', 'arr.%', '[1..3]', 'a ~> $string()',
  '$match(s, /o/)', 'nums[[0..1]]', '$replace(s, "o", "0")', '$split(s, " ")', '$now()', '$string', 'arr#$i', 'arr@$x', 'nums[]', 'function($x)<n:n> { $x }',
  '($string := function($x) { $x }; $string(1))', '$reduce(nums, $append)', '(function($x) { $x.k })(arr[0])',
];

const table: Record<string, string> = { '1': 'one', 'Hello World': 'greeting' };
const bindings = {
  pref: (_r: unknown, _e: unknown, v: unknown) => (v === undefined || v === null ? undefined : table[String(v)]),
  descriptor: (name: unknown, code: unknown) => (code === undefined || code === null || code === '' ? undefined : `uri://x/${String(name)}#${String(code)}`),
  overlaps: (s: unknown, e: unknown) => String(s ?? '0000') <= '2026-06-30' && String(e ?? '9999') >= '2025-07-01',
  daysBetween: (a: unknown, b: unknown) => (typeof a === 'string' && typeof b === 'string' ? (Date.parse(b) - Date.parse(a)) / 86_400_000 : undefined),
  laterDate: (a: unknown, b: unknown) => [a, b].filter((x) => typeof x === 'string').sort().pop(),
};
const names = new Set(Object.keys(bindings));

function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

async function viaJsonata(expr: string, input: unknown): Promise<{ value?: unknown; error?: string }> {
  try {
    return { value: plain(await jsonata(expr).evaluate(input, bindings)) };
  } catch (err) {
    return { error: String((err as { code?: string }).code ?? 'error') };
  }
}

function viaCompiled(expr: string, input: unknown): { value?: unknown; error?: string } {
  const { compiled, reason } = compileAst(jsonata(expr).ast() as AstNode, { bindings: names });
  if (!compiled) throw new Error(`not compiled: ${expr}: ${reason}`);
  try {
    return { value: plain(compiled.evaluate(input, bindingFrame(bindings))) };
  } catch (err) {
    return { error: String((err as { code?: string }).code ?? 'error') };
  }
}

describe('JSONata compiled to functions', function () {
  for (const expr of expressions) {
    it(`gives what jsonata gives: ${expr}`, async function () {
      for (const [i, input] of inputs.entries()) {
        const want = await viaJsonata(expr, input);
        const got = viaCompiled(expr, input);
        expect(got, `input ${i}`).to.deep.equal(want);
      }
    });
  }

  it('gives what jsonata gives on 2,000 random expressions of the compiled constructs (seeded)', async function () {
    this.timeout(120_000);
    let seed = 20250611;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const names = ['a', 'b', 's', 'n', 'z', 'f', 'yes', 'empty', 'd1', 'o', 'arr', 'nums', 'strs', 'one', 'none', 'objs', 'missing', 'connection'];
    const inner = ['k', 'v', 'x', 'y', 'p', 'nested', 'start', 'deep', 'inner', 'districtNumber'];
    const gen = (depth: number): string => {
      const leaf = (): string =>
        pick([
          () => pick(names), () => `${pick(names)}.${pick(inner)}`, () => `${pick(names)}.${pick(inner)}.${pick(inner)}`, () => String(Math.floor(rand() * 5) - 1),
          () => pick(['"a"', '"x"', '""', 'true', 'false', 'null', '1.5']), () => '$', () => '$v',
        ])();
      if (depth <= 0) return leaf();
      const d = depth - 1;
      return pick([
        leaf, leaf,
        () => `${gen(d)} ${pick(['+', '-', '*', '=', '!=', '<', '>=', 'and', 'or', '&', 'in'])} ${gen(d)}`,
        () => `(${gen(d)} ? ${gen(d)} : ${gen(d)})`,
        () => `${pick(names)}[${pick(['0', '-1', '1', `${pick(inner)} > 1`, `${pick(inner)} = "a"`, '$exists(k)', gen(d)])}]`,
        () => `{ "${pick(inner)}": ${gen(d)}, "${pick(['q', 'r'])}": ${gen(d)} }`,
        () => `[${gen(d)}, ${gen(d)}]`,
        () => `${pick(['$string', '$count', '$exists', '$boolean', '$not', '$type', '$lowercase', '$sum', '$number', '$length', '$keys', '$distinct', '$reverse'])}(${gen(d)})`,
        () => `${pick(['$append', '$join', '$substring', '$contains', '$lookup'])}(${gen(d)}, ${gen(d)})`,
        () => `$pref("r", "e", ${gen(d)})`, () => `$daysBetween(${gen(d)}, d2)`, () => `$laterDate(${gen(d)}, ${gen(d)})`,
        () => `($v := ${gen(d)}; ${gen(d)})`,
        () => `${pick(names)}.(${gen(d)})`,
        () => `-${gen(d)}`,
        () => `$map(${pick(names)}, function($e) { ${gen(d).replace(/\$v/g, '$e')} })`,
        () => `$filter(${pick(names)}, function($e, $i) { ${gen(d).replace(/\$v/g, '$e')} })`,
        () => `$reduce(${pick(names)}, function($acc, $e) { ${pick(['$append($acc, $e)', '$acc & $string($e)', gen(d).replace(/\$v/g, '$e')])} }, ${pick(['[]', '""', '0', gen(d)])})`,
        () => `$sort(${pick(names)}, function($p, $q) { ${pick(['$p > $q', '$p.k > $q.k', '$string($p) < $string($q)', gen(d).replace(/\$v/g, '$p')])} })`,
        () => `($f := function($e) { ${gen(d).replace(/\$v/g, '$e')} }; $f(${gen(d)}))`,
      ])();
    };
    let compared = 0;
    for (let i = 0; i < 2000; i++) {
      const expr = gen(3);
      let ast: AstNode;
      try {
        ast = jsonata(expr).ast() as AstNode;
      } catch {
        continue;
      }
      const { compiled } = compileAst(ast, { bindings: names.length ? new Set(Object.keys(bindings)) : new Set() });
      if (!compiled) continue;
      for (const [n, input] of inputs.entries()) {
        const want = await viaJsonata(expr, input);
        expect(viaCompiled(expr, input), `${expr} on input ${n}`).to.deep.equal(want);
      }
      compared++;
    }
    expect(compared).to.be.greaterThan(1500);
  });

  it('refuses what it does not compile, saying what', function () {
    for (const expr of notCompiled) {
      const { compiled, reason } = compileAst(jsonata(expr).ast() as AstNode, { bindings: names });
      expect(compiled, expr).to.equal(undefined);
      expect(reason, expr).to.be.a('string').and.not.equal('');
    }
  });

  it('refuses a call of a function it does not know', function () {
    const { compiled, reason } = compileAst(jsonata('$nosuch(a)').ast() as AstNode, { bindings: names });
    expect(compiled).to.equal(undefined);
    expect(reason).to.contain('$nosuch');
  });
});
