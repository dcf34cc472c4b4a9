// Identity rows and the evaluation cache keep hashes of canonicalJson: a change of its output would make every
// record sent before look changed (a PUT of every record) the night after an upgrade. It is held here to the
// first version's output on random values and on the corner cases.
import { expect } from 'chai';
import { canonicalJson } from '../src/util/hash.js';
import { Prng } from '../src/snapshot/prng.js';
import type { Json } from '../src/types.js';

/** canonicalJson as first written (map and join). */
function reference(value: Json | undefined): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return '[' + value.map((v) => reference(v)).join(',') + ']';
  const keys = Object.keys(value).sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + reference(value[k])).join(',') + '}';
}

const KEYS = ['a', 'B', 'b', '', 'é', 'key "quoted"', 'line\nbreak', '10', '9', '__proto_', 'z\u0000', '\ud83d\ude00'];
function randomJson(rng: Prng, depth: number): Json {
  const pick = rng.int(0, depth > 3 ? 5 : 7);
  switch (pick) {
    case 0: return null;
    case 1: return rng.int(0, 1) === 1;
    case 2: return rng.int(-1000, 1000) / (rng.int(0, 1) ? 1 : 7);
    case 3: return KEYS[rng.int(0, KEYS.length - 1)]!;
    case 4: return '';
    case 5: return Number.MAX_SAFE_INTEGER;
    case 6: return Array.from({ length: rng.int(0, 4) }, () => randomJson(rng, depth + 1));
    default: {
      const o: Record<string, Json> = {};
      for (let i = rng.int(0, 5); i > 0; i--) o[KEYS[rng.int(0, KEYS.length - 1)]!] = randomJson(rng, depth + 1);
      return o;
    }
  }
}

describe('canonicalJson keeps the output the stored hashes were made from', function () {
  it('equals the first version on 20,000 random values', function () {
    const rng = new Prng(424242);
    for (let i = 0; i < 20_000; i++) {
      const v = randomJson(rng, 0);
      expect(canonicalJson(v), JSON.stringify(v)).to.equal(reference(v));
    }
  });

  it('corner cases: undefined members, holes, key order, non-finite numbers', function () {
    const cases = [
      undefined, { b: 1, a: undefined } as unknown as Json, [1, undefined, 3] as unknown as Json, [1, , 3] as unknown as Json,
      { '10': 1, '9': 2, b: { d: [], c: {} } }, Number.NaN, Number.POSITIVE_INFINITY, -0, 'x"y\\z',
    ];
    for (const v of cases) expect(canonicalJson(v as Json), String(v)).to.equal(reference(v as Json));
    expect(canonicalJson({ b: 1, a: [2, { d: 1, c: 2 }] })).to.equal('{"a":[2,{"c":2,"d":1}],"b":1}');
  });
});
