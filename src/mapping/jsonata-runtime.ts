// The pieces of JSONata's evaluator that compiled expressions (jsonata-compile.ts) call: sequences, equality,
// truthiness, string conversion and a subset of the built-in functions with their signatures. Each is restated
// from jsonata 2.x (jsonata.js: utils, functions, signature) so that a compiled expression gives exactly what
// jsonata gives; spec/jsonata-compile.spec.ts runs both on the same inputs. JSONata is MIT-licensed (IBM).

/** A JSONata sequence: an array marked as the result of mapping over values (flattened, unwrapped when single). */
export type Sequence = unknown[] & { sequence?: boolean; keepSingleton?: boolean; cons?: boolean; outerWrapper?: boolean };

/** An error as JSONata raises it: a code, and a message a person reads. */
export class JsonataError extends Error {
  constructor(readonly code: string, message: string, readonly value?: unknown) {
    super(`${code}: ${message}`);
    this.name = 'JsonataError';
  }
}

export function emptySequence(): Sequence {
  const seq: Sequence = [];
  seq.sequence = true;
  return seq;
}

/** A sequence of one item (even `undefined`, as jsonata's createSequence with one argument). */
export function sequenceOf(item: unknown): Sequence {
  const seq: Sequence = [item];
  seq.sequence = true;
  return seq;
}

/** jsonata's createSequence: empty, or holding its argument when exactly one is passed. */
export function createSequence(...items: unknown[]): Sequence {
  return items.length === 1 ? sequenceOf(items[0]) : emptySequence();
}

export function isSequence(value: unknown): value is Sequence {
  return Array.isArray(value) && (value as Sequence).sequence === true;
}

export function isNumeric(n: unknown): n is number {
  if (typeof n !== 'number') return false;
  const isNum = !Number.isNaN(n);
  if (isNum && !Number.isFinite(n)) throw new JsonataError('D1001', 'Number out of range', n);
  return isNum;
}

export function isArrayOfNumbers(arg: unknown): boolean {
  return Array.isArray(arg) && arg.filter((item) => !isNumeric(item)).length === 0;
}

export function isDeepEqual(lhs: unknown, rhs: unknown): boolean {
  if (lhs === rhs) return true;
  if (typeof lhs === 'object' && typeof rhs === 'object' && lhs !== null && rhs !== null) {
    if (Array.isArray(lhs) && Array.isArray(rhs)) {
      if (lhs.length !== rhs.length) return false;
      for (let i = 0; i < lhs.length; i++) if (!isDeepEqual(lhs[i], rhs[i])) return false;
      return true;
    }
    const lkeys = Object.getOwnPropertyNames(lhs).sort();
    const rkeys = Object.getOwnPropertyNames(rhs).sort();
    if (lkeys.length !== rkeys.length) return false;
    for (let i = 0; i < lkeys.length; i++) if (lkeys[i] !== rkeys[i]) return false;
    for (const k of lkeys) if (!isDeepEqual((lhs as Record<string, unknown>)[k], (rhs as Record<string, unknown>)[k])) return false;
    return true;
  }
  return false;
}

function objectKeys(arg: unknown): string[] {
  return typeof arg === 'object' && arg !== null ? Object.keys(arg) : [];
}

/** Effective boolean value ($boolean). */
export function toBoolean(arg: unknown): boolean | undefined {
  if (arg === undefined) return undefined;
  let result = false;
  if (Array.isArray(arg)) {
    if (arg.length === 1) result = toBoolean(arg[0]) as boolean;
    else if (arg.length > 1) result = arg.filter((v) => toBoolean(v)).length > 0;
  } else if (typeof arg === 'string') {
    result = arg.length > 0;
  } else if (isNumeric(arg)) {
    result = arg !== 0;
  } else if (arg !== null && typeof arg === 'object') {
    result = objectKeys(arg).length > 0;
  } else if (arg === true) {
    result = true;
  }
  return result;
}

/** `and` / `or` operands: undefined counts as false. */
export function boolize(value: unknown): boolean {
  const b = toBoolean(value);
  return b === undefined ? false : b;
}

/** $string. */
export function toJsonataString(arg: unknown, prettify = false): string | undefined {
  if (arg === undefined) return undefined;
  if (typeof arg === 'string') return arg;
  if (typeof arg === 'function') return '';
  if (typeof arg === 'number' && !Number.isFinite(arg)) throw new JsonataError('D3001', 'Attempting to invoke string function on Infinity or NaN', arg);
  const value = Array.isArray(arg) && (arg as Sequence).outerWrapper ? arg[0] : arg;
  return JSON.stringify(
    value,
    (_key, val: unknown) => {
      if (val !== undefined && val !== null && isNumeric(val)) return !Number.isInteger(val) ? Number(val.toPrecision(15)) : val;
      return val && typeof val === 'function' ? '' : val;
    },
    prettify ? 2 : 0,
  );
}

/** Field lookup (a name step): own properties only; arrays map over their items and flatten one level. */
export function lookup(input: unknown, key: string): unknown {
  if (Array.isArray(input)) {
    const result = emptySequence();
    for (const item of input) {
      const res = lookup(item, key);
      if (res !== undefined) {
        if (Array.isArray(res)) for (const v of res) result.push(v);
        else result.push(res);
      }
    }
    return result;
  }
  if (input !== null && typeof input === 'object' && Object.prototype.hasOwnProperty.call(input, key)) {
    return (input as Record<string, unknown>)[key];
  }
  return undefined;
}

/** $append and the array constructor. */
export function append(arg1: unknown, arg2: unknown): unknown {
  if (arg1 === undefined) return arg2;
  if (arg2 === undefined) return arg1;
  const a = Array.isArray(arg1) ? arg1 : sequenceOf(arg1);
  const b = Array.isArray(arg2) ? arg2 : [arg2];
  return a.concat(b);
}

function stringToArray(str: string): string[] {
  return [...str];
}

// ---- Signatures (jsonata signature.js): argument type checks, context substitution ('-'), array promotion ('a').

interface Param {
  regex: string;
  type: string;
  array?: boolean;
  context?: boolean;
  contextRegex?: RegExp;
  subtype?: string;
}

function symbolOf(value: unknown): string {
  switch (typeof value) {
    case 'string': return 's';
    case 'number': return 'n';
    case 'boolean': return 'b';
    case 'function': return 'f';
    case 'object':
      if (value === null) return 'l';
      return Array.isArray(value) ? 'a' : 'o';
    default: return 'm';
  }
}

export interface Signature {
  validate(args: unknown[], context: unknown): unknown[];
}

function findClosing(str: string, start: number, open: string, close: string): number {
  let depth = 1;
  let position = start;
  while (position < str.length) {
    position++;
    const symbol = str.charAt(position);
    if (symbol === close) {
      depth--;
      if (depth === 0) break;
    } else if (symbol === open) {
      depth++;
    }
  }
  return position;
}

export function parseSignature(signature: string): Signature {
  let position = 1;
  const params: Param[] = [];
  let param = {} as Param;
  let prevParam = param;
  const next = (): void => {
    params.push(param);
    prevParam = param;
    param = {} as Param;
  };
  while (position < signature.length) {
    const symbol = signature.charAt(position);
    if (symbol === ':') break;
    switch (symbol) {
      case 's': case 'n': case 'b': case 'l': case 'o':
        param.regex = `[${symbol}m]`;
        param.type = symbol;
        next();
        break;
      case 'a':
        param.regex = '[asnblfom]';
        param.type = symbol;
        param.array = true;
        next();
        break;
      case 'f':
        param.regex = 'f';
        param.type = symbol;
        next();
        break;
      case 'j':
        param.regex = '[asnblom]';
        param.type = symbol;
        next();
        break;
      case 'x':
        param.regex = '[asnblfom]';
        param.type = symbol;
        next();
        break;
      case '-':
        prevParam.context = true;
        prevParam.contextRegex = new RegExp(prevParam.regex);
        prevParam.regex += '?';
        break;
      case '?': case '+':
        prevParam.regex += symbol;
        break;
      case '(': {
        const end = findClosing(signature, position, '(', ')');
        const choice = signature.substring(position + 1, end);
        param.regex = `[${choice}m]`;
        param.type = `(${choice})`;
        position = end;
        next();
        break;
      }
      case '<': {
        const end = findClosing(signature, position, '<', '>');
        prevParam.subtype = signature.substring(position + 1, end);
        position = end;
        break;
      }
    }
    position++;
  }
  const regex = new RegExp('^' + params.map((p) => `(${p.regex})`).join('') + '$');

  const throwValidationError = (badArgs: unknown[], badSig: string): never => {
    let partialPattern = '^';
    let goodTo = 0;
    for (const p of params) {
      partialPattern += p.regex;
      const match = badSig.match(partialPattern);
      if (match === null) throw new JsonataError('T0410', `Argument ${goodTo + 1} of function does not match function signature`, badArgs[goodTo]);
      goodTo = match[0].length;
    }
    throw new JsonataError('T0410', `Argument ${goodTo + 1} of function does not match function signature`, badArgs[goodTo]);
  };

  return {
    validate(args: unknown[], context: unknown): unknown[] {
      let suppliedSig = '';
      for (let i = 0; i < args.length; i++) suppliedSig += symbolOf(args[i]);
      const isValid = regex.exec(suppliedSig);
      if (!isValid) return throwValidationError(args, suppliedSig);
      const validated: unknown[] = [];
      let argIndex = 0;
      for (let index = 0; index < params.length; index++) {
        const p = params[index]!;
        let arg = args[argIndex];
        const match = isValid[index + 1]!;
        if (match === '') {
          if (p.context && p.contextRegex) {
            if (p.contextRegex.test(symbolOf(context))) validated.push(context);
            else throw new JsonataError('T0411', `Context value is not a compatible type with argument ${argIndex + 1} of function`, context);
          } else {
            validated.push(arg);
            argIndex++;
          }
          continue;
        }
        for (let c = 0; c < match.length; c++) {
          const single = match[c]!;
          arg = args[argIndex];
          if (p.type === 'a') {
            if (single === 'm') {
              arg = undefined;
            } else {
              let arrayOK = true;
              if (p.subtype !== undefined) {
                if (single !== 'a' && match !== p.subtype) {
                  arrayOK = false;
                } else if (single === 'a') {
                  const list = arg as unknown[];
                  if (list.length > 0) {
                    const itemType = symbolOf(list[0]);
                    if (itemType !== p.subtype.charAt(0)) arrayOK = false;
                    else arrayOK = list.filter((v) => symbolOf(v) !== itemType).length === 0;
                  }
                }
              }
              if (!arrayOK) throw new JsonataError('T0412', `Argument ${argIndex + 1} of function must be an array of ${p.subtype ?? ''}`, arg);
              if (single !== 'a') arg = [arg];
            }
          }
          validated.push(arg);
          argIndex++;
        }
      }
      return validated;
    },
  };
}

// ---- Built-in functions a compiled expression may call (the rest keep an expression in JSONata).

/** `this` of a built-in: what jsonata passes as the function's focus. */
const focus = { createSequence };

type Impl = (this: typeof focus, ...args: never[]) => unknown;

function undefinedIfMissing<T extends unknown[]>(f: (...args: T) => unknown): (...args: T) => unknown {
  return (...args: T) => (args[0] === undefined ? undefined : f(...args));
}

function keysOf(this: typeof focus, arg: unknown): unknown {
  let result = createSequence();
  if (Array.isArray(arg)) {
    const merged: Record<string, boolean> = Object.create(null) as Record<string, boolean>;
    for (const item of arg) for (const k of keysOf.call(this, item) as string[]) merged[k] = true;
    result = keysOf.call(this, merged) as Sequence;
  } else if (arg !== null && typeof arg === 'object') {
    for (const k of objectKeys(arg)) result.push(k);
  }
  return result;
}

function roundHalfEven(arg: number | undefined, precision?: number): number | undefined {
  if (arg === undefined) return undefined;
  let value = arg;
  if (precision) {
    const parts = value.toString().split('e');
    value = +(parts[0] + 'e' + (parts[1] ? +parts[1] + precision : precision));
  }
  let result = Math.round(value);
  const diff = result - value;
  if (Math.abs(diff) === 0.5 && Math.abs(result % 2) === 1) result = result - 1;
  if (precision) {
    const parts = result.toString().split('e');
    result = +(parts[0] + 'e' + (parts[1] ? +parts[1] - precision : -precision));
  }
  return Object.is(result, -0) ? 0 : result;
}

function toNumber(arg: unknown): number | undefined {
  if (arg === undefined) return undefined;
  if (typeof arg === 'number') return arg;
  if (typeof arg === 'string' && /^-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?$/.test(arg) && !Number.isNaN(parseFloat(arg)) && Number.isFinite(Number(arg))) return parseFloat(arg);
  if (typeof arg === 'string' && /^(0[xX][0-9A-Fa-f]+)|(0[oO][0-7]+)|(0[bB][0-1]+)$/.test(arg)) return Number(arg);
  if (arg === true) return 1;
  if (arg === false) return 0;
  throw new JsonataError('D3030', 'Unable to cast value to a number', arg);
}

function typeOf(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (value === null) return 'null';
  if (isNumeric(value)) return 'number';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'function') return 'function';
  return 'object';
}

function trimJsonata(str: string): string {
  let result = str.replace(/[ \t\n\r]+/gm, ' ');
  if (result.charAt(0) === ' ') result = result.substring(1);
  if (result.charAt(result.length - 1) === ' ') result = result.substring(0, result.length - 1);
  return result;
}

function substringJsonata(str: string | undefined, start: number, length?: number): string | undefined {
  if (str === undefined) return undefined;
  const chars = stringToArray(str);
  let from = start;
  if (chars.length + from < 0) from = 0;
  if (length !== undefined) {
    if (length <= 0) return '';
    const end = from >= 0 ? from + length : chars.length + from + length;
    return chars.slice(from, end).join('');
  }
  return chars.slice(from).join('');
}

function padJsonata(str: string | undefined, width: number, char?: string): string | undefined {
  if (str === undefined) return undefined;
  const padChar = char === undefined || char.length === 0 ? ' ' : char;
  const w = Math.trunc(width);
  const padLength = Math.abs(w) - stringToArray(str).length;
  if (padLength <= 0) return str;
  let padding = new Array(padLength + 1).join(padChar);
  if (padChar.length > 1) padding = substringJsonata(padding, 0, padLength)!;
  return w > 0 ? str + padding : padding + str;
}

function distinctOf(arr: unknown): unknown {
  if (arr === undefined) return undefined;
  if (!Array.isArray(arr) || arr.length <= 1) return arr;
  const results: unknown[] = isSequence(arr) ? createSequence() : [];
  for (const value of arr) if (!results.some((r) => isDeepEqual(value, r))) results.push(value);
  return results;
}

function mergeOf(arg: unknown[] | undefined): unknown {
  if (arg === undefined) return undefined;
  const result: Record<string, unknown> = {};
  for (const obj of arg) for (const prop in obj as object) result[prop] = (obj as Record<string, unknown>)[prop];
  return result;
}

function reverseOf(arr: unknown[] | undefined): unknown {
  if (arr === undefined) return undefined;
  if (arr.length <= 1) return arr;
  const out = new Array<unknown>(arr.length);
  for (let i = 0; i < arr.length; i++) out[arr.length - i - 1] = arr[i];
  return out;
}

function lookupFn(this: typeof focus, input: unknown, key: string): unknown {
  return lookup(input, key);
}

// ---- Higher-order functions. A compiled `function($a, $b) {...}` is a JS function with its parameter count as
// `arity`, as jsonata hands a lambda to a built-in (a closure with `arity`).

type Callable = ((...args: unknown[]) => unknown) & { arity?: number };

function arityOf(func: Callable): number {
  return typeof func.arity === 'number' ? func.arity : func.length;
}

function hofArgs(func: Callable, value: unknown, index: number, all: unknown[]): unknown[] {
  const args = [value];
  const n = arityOf(func);
  if (n >= 2) args.push(index);
  if (n >= 3) args.push(all);
  return args;
}

function mapFn(arr: unknown[] | undefined, func: Callable): unknown {
  if (arr === undefined) return undefined;
  const result = emptySequence();
  for (let i = 0; i < arr.length; i++) {
    const res = func(...hofArgs(func, arr[i], i, arr));
    if (res !== undefined) result.push(res);
  }
  return result;
}

function filterFn(arr: unknown[] | undefined, func: Callable): unknown {
  if (arr === undefined) return undefined;
  const result = emptySequence();
  for (let i = 0; i < arr.length; i++) {
    if (toBoolean(func(...hofArgs(func, arr[i], i, arr)))) result.push(arr[i]);
  }
  return result;
}

function singleFn(arr: unknown[] | undefined, func?: Callable): unknown {
  if (arr === undefined) return undefined;
  let found = false;
  let result: unknown;
  for (let i = 0; i < arr.length; i++) {
    const ok = func === undefined ? true : toBoolean(func(...hofArgs(func, arr[i], i, arr)));
    if (!ok) continue;
    if (found) throw new JsonataError('D3138', 'The $single() function expected exactly 1 matching result.  Instead it matched more.', i);
    result = arr[i];
    found = true;
  }
  if (!found) throw new JsonataError('D3139', 'The $single() function expected exactly 1 matching result.  Instead it matched 0.');
  return result;
}

function reduceFn(sequence: unknown[] | undefined, func: Callable, init?: unknown): unknown {
  if (sequence === undefined) return undefined;
  const arity = arityOf(func);
  if (arity < 2) throw new JsonataError('D3050', 'The second argument of reduce function must be a function with at least two arguments');
  let result: unknown;
  let index: number;
  if (init === undefined && sequence.length > 0) {
    result = sequence[0];
    index = 1;
  } else {
    result = init;
    index = 0;
  }
  while (index < sequence.length) {
    const args = [result, sequence[index]];
    if (arity >= 3) args.push(index);
    if (arity >= 4) args.push(sequence);
    result = func(...args);
    index++;
  }
  return result;
}

function isArrayOfStrings(arg: unknown): boolean {
  return Array.isArray(arg) && arg.every((item) => typeof item === 'string');
}

/** jsonata's merge sort: the same comparator calls in the same order, so a comparator's answer is honoured alike. */
function sortFn(arr: unknown[] | undefined, comparator?: Callable): unknown {
  if (arr === undefined) return undefined;
  if (arr.length <= 1) return arr;
  let comp: (a: unknown, b: unknown) => unknown;
  if (comparator === undefined) {
    if (!isArrayOfNumbers(arr) && !isArrayOfStrings(arr)) throw new JsonataError('D3070', 'The single argument form of the sort function can only be applied to an array of strings or an array of numbers.  Use the second argument to specify a comparison function');
    comp = (a, b) => (a as number) > (b as number);
  } else {
    comp = comparator;
  }
  const merge = (l: unknown[], r: unknown[]): unknown[] => {
    const result: unknown[] = [];
    let i = 0;
    let j = 0;
    while (i < l.length && j < r.length) {
      if (comp(l[i], r[j])) result.push(r[j++]);
      else result.push(l[i++]);
    }
    while (i < l.length) result.push(l[i++]);
    while (j < r.length) result.push(r[j++]);
    return result;
  };
  const msort = (array: unknown[]): unknown[] => {
    if (array.length <= 1) return array;
    const middle = Math.floor(array.length / 2);
    return merge(msort(array.slice(0, middle)), msort(array.slice(middle)));
  };
  return msort(arr);
}

/** JSONata built-ins, by name: implementation and signature as jsonata binds them. */
export const BUILT_INS: Record<string, { impl: Impl; signature: Signature }> = {};

function define(name: string, impl: (...args: never[]) => unknown, signature: string): void {
  BUILT_INS[name] = { impl: impl as Impl, signature: parseSignature(signature) };
}

define('sum', undefinedIfMissing((args: number[]) => args.reduce((t, n) => t + n, 0)), '<a<n>:n>');
define('count', (args: unknown[] | undefined) => (args === undefined ? 0 : args.length), '<a:n>');
define('max', (args: number[] | undefined) => (args === undefined || args.length === 0 ? undefined : Math.max(...args)), '<a<n>:n>');
define('min', (args: number[] | undefined) => (args === undefined || args.length === 0 ? undefined : Math.min(...args)), '<a<n>:n>');
define('average', (args: number[] | undefined) => (args === undefined || args.length === 0 ? undefined : args.reduce((t, n) => t + n, 0) / args.length), '<a<n>:n>');
define('string', (arg: unknown, prettify?: boolean) => toJsonataString(arg, prettify ?? false), '<x-b?:s>');
define('substring', substringJsonata, '<s-nn?:s>');
define('substringBefore', undefinedIfMissing((str: string, chars: string) => {
  const pos = str.indexOf(chars);
  return pos > -1 ? str.substr(0, pos) : str;
}), '<s-s:s>');
define('substringAfter', undefinedIfMissing((str: string, chars: string) => {
  const pos = str.indexOf(chars);
  return pos > -1 ? str.substr(pos + chars.length) : str;
}), '<s-s:s>');
define('lowercase', undefinedIfMissing((str: string) => str.toLowerCase()), '<s-:s>');
define('uppercase', undefinedIfMissing((str: string) => str.toUpperCase()), '<s-:s>');
define('length', undefinedIfMissing((str: string) => stringToArray(str).length), '<s-:n>');
define('trim', undefinedIfMissing(trimJsonata), '<s-:s>');
define('pad', padJsonata, '<s-ns?:s>');
define('join', undefinedIfMissing((strs: string[], sep?: string) => strs.join(sep === undefined ? '' : sep)), '<a<s>s?:s>');
define('number', toNumber, '<(nsb)-:n>');
define('floor', undefinedIfMissing((n: number) => Math.floor(n)), '<n-:n>');
define('ceil', undefinedIfMissing((n: number) => Math.ceil(n)), '<n-:n>');
define('round', roundHalfEven, '<n-n?:n>');
define('abs', undefinedIfMissing((n: number) => Math.abs(n)), '<n-:n>');
define('boolean', toBoolean, '<x-:b>');
define('not', (arg: unknown) => (arg === undefined ? undefined : !toBoolean(arg)), '<x-:b>');
define('keys', keysOf, '<x-:a<s>>');
define('lookup', lookupFn, '<x-s:x>');
define('append', append, '<xx:a>');
define('exists', (arg: unknown) => arg !== undefined, '<x:b>');
define('merge', mergeOf, '<a<o>:o>');
define('reverse', reverseOf, '<a:a>');
define('type', typeOf, '<x:s>');
define('distinct', distinctOf, '<x:x>');
define('map', mapFn, '<af>');
define('filter', filterFn, '<af>');
define('single', singleFn, '<af?>');
define('reduce', reduceFn, '<afj?:j>');
define('sort', sortFn, '<af?:a>');
// $contains with a text token; a regular expression token keeps the expression in JSONata (no regex literals here).
define('contains', (str: string | undefined, token: unknown) => {
  if (str === undefined || token === undefined) return undefined;
  if (typeof token !== 'string') throw new JsonataError('T1010', 'The matcher function argument passed to function contains does not return the correct object structure');
  return str.indexOf(token) !== -1;
}, '<s-(sf):b>');

/** A built-in as jsonata's applyInner calls it: validate the arguments against the signature, then apply. */
export function builtInCaller(name: string): (args: unknown[], context: unknown) => unknown {
  const b = BUILT_INS[name]!;
  const impl = b.impl as (...a: unknown[]) => unknown;
  return (args, context) => impl.apply(focus, b.signature.validate(args, context));
}

export function callBuiltIn(name: string, args: unknown[], context: unknown): unknown {
  return builtInCaller(name)(args, context);
}
