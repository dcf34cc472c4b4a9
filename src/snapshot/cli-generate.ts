// `edfi-sync generate`: the command-line face of the generator. Options arrive as strings from the
// command parser, so they are checked here, where the message can name the flag.
import { DEFAULT_SEED, generateSnapshot } from './generate.js';
import type { GenerateProfile, GenerateSummary } from './generate.js';
import { profileList } from './generate-config.js';

export interface RunGenerateOptions {
  students: number | string;
  seed?: number | string;
  out: string;
  /** Configured school end years: numbers or "2025,2026". */
  years?: number[] | string;
  profile?: string;
}

export function runGenerate(opts: RunGenerateOptions, print: (line: string) => void = console.log): GenerateSummary {
  const students = integerOption('--students', opts.students);
  const seed = opts.seed === undefined ? DEFAULT_SEED : integerOption('--seed', opts.seed);
  const endYears = opts.years === undefined ? undefined : yearsOption(opts.years);
  const profile = profileOption(opts.profile);
  if (!opts.out) throw new Error('--out must name the snapshot file to write');

  const summary = generateSnapshot({ students, seed, out: opts.out, ...(endYears ? { endYears } : {}), ...(profile ? { profile } : {}) });
  for (const line of formatSummary(summary)) print(line);
  return summary;
}

export function formatSummary(s: GenerateSummary): string[] {
  const width = Math.max(...Object.keys(s.counts).map((t) => t.length));
  const total = Object.values(s.counts).reduce((a, b) => a + b, 0);
  return [
    `Wrote ${s.out}: ${s.students} students, seed ${s.seed}, school years ${s.endYears.join(', ')}, profile ${s.profile} ` +
      `(${total} rows in ${(s.elapsedMs / 1000).toFixed(1)} s)`,
    ...Object.entries(s.counts).map(([table, n]) => `  ${table.padEnd(width)}  ${String(n).padStart(8)}`),
  ];
}

function integerOption(flag: string, value: number | string): number {
  const n = typeof value === 'number' ? value : /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n)) throw new Error(`${flag} must be a whole number, got '${String(value)}'`);
  return n;
}

function yearsOption(value: number[] | string): number[] {
  const parts = Array.isArray(value) ? value : value.split(',').map((p) => p.trim()).filter((p) => p !== '');
  return parts.map((p) => integerOption('--years', p));
}

function profileOption(value: string | undefined): GenerateProfile | undefined {
  if (value === undefined) return undefined;
  profileList(value);
  return value;
}
