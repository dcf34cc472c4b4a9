// Date arithmetic for mappings and computed facts. Dates are the snapshot's YYYY-MM-DD text; there is no "today":
// every function answers from its arguments alone, so a body computed tonight is the body computed tomorrow.

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a valid YYYY-MM-DD date; throws, naming the function, for anything else. */
function dayNumber(fn: string, value: unknown): number {
  const m = typeof value === 'string' ? ISO_DATE.exec(value) : null;
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const ms = Date.UTC(y, mo - 1, d);
    const back = new Date(ms);
    // Date.UTC rolls 2025-02-30 over to March: such a date is refused, not moved.
    if (back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d) return Math.round(ms / DAY_MS);
  }
  throw new Error(`$${fn}: ${JSON.stringify(value)} is not a date (YYYY-MM-DD)`);
}

function isoOf(days: number): string {
  return new Date(days * DAY_MS).toISOString().slice(0, 10);
}

function missing(value: unknown): boolean {
  return value === undefined || value === null;
}

/** Dates given one by one or as lists (a path over several records gives a list), missing ones left out. */
function datesOf(args: unknown[]): unknown[] {
  return args.flatMap((a) => (Array.isArray(a) ? a : [a])).filter((a) => !missing(a));
}

export function daysBetween(from: unknown, to: unknown): number | undefined {
  if (missing(from) || missing(to)) return undefined;
  return dayNumber('daysBetween', to) - dayNumber('daysBetween', from);
}

export function addDays(date: unknown, days: unknown): string | undefined {
  if (missing(date)) return undefined;
  if (typeof days !== 'number' || !Number.isInteger(days)) throw new Error(`$addDays: the number of days must be a whole number, got ${JSON.stringify(days)}`);
  return isoOf(dayNumber('addDays', date) + days);
}

export function laterDate(...dates: unknown[]): string | undefined {
  let best: { day: number; text: string } | undefined;
  for (const d of datesOf(dates)) {
    const day = dayNumber('laterDate', d);
    if (!best || day > best.day) best = { day, text: d as string };
  }
  return best?.text;
}

export function earlierDate(...dates: unknown[]): string | undefined {
  let best: { day: number; text: string } | undefined;
  for (const d of datesOf(dates)) {
    const day = dayNumber('earlierDate', d);
    if (!best || day < best.day) best = { day, text: d as string };
  }
  return best?.text;
}
