// When to try an Ed-Fi call again, and how long to wait first.
// Exponential backoff with full jitter spreads the retries of many concurrent requests, so a server that
// stumbled is not hit by all of them at the same instant; Retry-After, when the server gives one, wins.

export interface RetrySettings {
  /** Total tries of one request, the first included. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Cap on retries across the whole run, so a failing server cannot stretch a run for hours. */
  maxRetriesPerRun?: number;
  /** A Retry-After longer than this is not waited for: the request fails with the server's answer. */
  maxRetryAfterMs?: number;
  /** Multiplies every wait. 1 in production; tests set it small to keep the suite fast. */
  delayScale?: number;
}

export const RETRY_DEFAULTS: Required<RetrySettings> = {
  maxAttempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 20_000,
  maxRetriesPerRun: 1000,
  maxRetryAfterMs: 120_000,
  delayScale: 1,
};

/** Statuses that say "try again later"; 400/403/404/409/412 would fail the same way every time. */
const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

/** Only these statuses carry a Retry-After meant for us (RFC 9110 §10.2.3). */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

/**
 * Milliseconds to wait from a Retry-After value: delay-seconds or an HTTP date.
 * Undefined when the header is absent or unreadable, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value == null) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

export class RetryPolicy {
  readonly settings: Required<RetrySettings>;
  private retriesUsed = 0;
  private readonly random: () => number;

  constructor(settings: RetrySettings = {}, random: () => number = Math.random) {
    const merged = { ...RETRY_DEFAULTS };
    for (const [name, value] of Object.entries(settings) as Array<[keyof RetrySettings, number | undefined]>) {
      if (value !== undefined) merged[name] = value;
    }
    if (!(merged.maxAttempts >= 1)) throw new RangeError('retry.maxAttempts must be at least 1');
    if (!(merged.maxRetriesPerRun >= 0)) throw new RangeError('retry.maxRetriesPerRun must not be negative');
    if (!(merged.delayScale >= 0)) throw new RangeError('retry.delayScale must not be negative');
    this.settings = merged;
    this.random = random;
  }

  /** Retries spent so far in this run. */
  get used(): number {
    return this.retriesUsed;
  }

  get budgetLeft(): number {
    return Math.max(0, this.settings.maxRetriesPerRun - this.retriesUsed);
  }

  /**
   * Decide whether attempt number `attempt` (1-based, just failed) gets another try.
   * Spends one retry from the run's budget when it does.
   */
  decide(attempt: number, status: number | undefined, retryAfterHeader?: string | null): RetryDecision {
    if (attempt >= this.settings.maxAttempts) return { retry: false, reason: 'max-attempts' };
    let delayMs: number;
    const retryAfterMs =
      status !== undefined && RETRY_AFTER_STATUSES.has(status) ? parseRetryAfter(retryAfterHeader) : undefined;
    if (retryAfterMs !== undefined) {
      if (retryAfterMs > this.settings.maxRetryAfterMs) return { retry: false, reason: 'retry-after-too-long', retryAfterMs };
      delayMs = retryAfterMs;
    } else {
      delayMs = this.backoff(attempt);
    }
    if (this.retriesUsed >= this.settings.maxRetriesPerRun) return { retry: false, reason: 'run-budget' };
    this.retriesUsed++;
    return { retry: true, delayMs: Math.round(delayMs * this.settings.delayScale), fromRetryAfter: retryAfterMs !== undefined };
  }

  /** Full jitter: uniform in [0, min(max, base * 2^(attempt-1))]. */
  backoff(attempt: number): number {
    const ceiling = Math.min(this.settings.maxDelayMs, this.settings.baseDelayMs * 2 ** (attempt - 1));
    return this.random() * ceiling;
  }
}

export type RetryDecision =
  | { retry: true; delayMs: number; fromRetryAfter: boolean }
  | { retry: false; reason: 'max-attempts' | 'run-budget' }
  | { retry: false; reason: 'retry-after-too-long'; retryAfterMs: number };
