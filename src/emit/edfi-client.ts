// The Ed-Fi ODS/API client: POST, PUT, DELETE and GET of one resource, with the token, retries and
// error texts handled here so the emitter deals only in results.
//
// HTTP failures come back as results (ok: false, status, message), never as exceptions, so a run can
// record each one and go on. Two things do throw: EdFiAuthError when no token can be had (every later
// call would fail the same way), and EdFiRequestError from getAll, which has no result to return.

import { setTimeout as sleep } from 'node:timers/promises';
import { parseBody, readErrorText, type ParsedBody } from './error-body.js';
import type { ClientEvent, ClientEventHandler } from './events.js';
import { Redactor } from './redact.js';
import { isRetryableStatus, RetryPolicy, type RetryDecision, type RetrySettings } from './retry.js';
import { TokenCache } from './token.js';
import { describeTransportError } from './transport-error.js';

export type { ClientEvent } from './events.js';
export { EdFiAuthError } from './token.js';

export interface EdFiClientOptions {
  /** The ODS/API root, e.g. https://ods.example.org/api (the token is at {baseUrl}/oauth/token). */
  baseUrl: string;
  /** Default '/data/v3'; year-specific instances use e.g. '/data/v3/2026'. */
  dataPath?: string;
  clientId: string;
  clientSecret: string;
  /** Per request, default 30000. */
  timeoutMs?: number;
  retry?: RetrySettings;
  /** Progress and log events; they never carry credentials, tokens or bodies. */
  onEvent?: (event: ClientEvent) => void;
}

export interface ApiResult {
  ok: boolean;
  /** HTTP status of the last attempt; 0 when the server never answered (timeout, reset, refused). */
  status: number;
  /** The Ed-Fi resource id: from Location on POST, the id used on PUT/DELETE/getById. */
  id?: string;
  message?: string;
  body?: unknown;
  attempts: number;
  /** Response headers of the last attempt, names in lower case. */
  headers?: Record<string, string>;
}

export interface PageResult extends ApiResult {
  items?: unknown[];
  /** From the Total-Count header, when asked for with totalCount and given. */
  totalCount?: number;
}

export interface PageOptions {
  offset?: number;
  limit?: number;
  totalCount?: boolean;
}

export type Query = Record<string, string | number>;

/** A GET in getAll failed; it carries the failed result. */
export class EdFiRequestError extends Error {
  override readonly name = 'EdFiRequestError';
  constructor(readonly result: ApiResult) {
    super(`GET failed (${result.status}) after ${result.attempts} attempt(s): ${result.message ?? 'no message'}`);
  }
}

const DEFAULT_DATA_PATH = '/data/v3';
const DEFAULT_TIMEOUT_MS = 30_000;
/** The ODS/API's default page-size cap; larger limits are refused with 400. */
const DEFAULT_PAGE_SIZE = 500;

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface Exchange extends ApiResult {
  parsed?: ParsedBody;
}

export class EdFiClient {
  readonly #baseUrl: string;
  readonly #dataPath: string;
  readonly #timeoutMs: number;
  readonly #retry: RetryPolicy;
  readonly #redactor = new Redactor();
  readonly #tokens: TokenCache;
  readonly #emit: ClientEventHandler;
  #budgetReported = false;

  constructor(options: EdFiClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#dataPath = normalizePath(options.dataPath ?? DEFAULT_DATA_PATH);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#retry = new RetryPolicy(options.retry);
    const onEvent = options.onEvent;
    // A throwing log handler must not break a request.
    this.#emit = (event) => {
      try {
        onEvent?.(event);
      } catch {
        // ignored on purpose
      }
    };
    this.#tokens = new TokenCache({
      tokenUrl: `${this.#baseUrl}/oauth/token`,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      timeoutMs: this.#timeoutMs,
      retry: this.#retry,
      redactor: this.#redactor,
      emit: this.#emit,
    });
  }

  /** Retries spent so far by this client (the run), against retry.maxRetriesPerRun. */
  get retriesUsed(): number {
    return this.#retry.used;
  }

  /** Create or update by natural key. 201 created, 200 updated; the id is the last segment of Location. */
  async post(resource: string, body: object): Promise<ApiResult> {
    const result = await this.#send('POST', this.#url(resource), body, [200, 201]);
    if (!result.ok) return strip(result);
    const location = result.headers?.location;
    const id = location ? lastSegment(location, this.#baseUrl) : idInBody(result.parsed?.json);
    const out: ApiResult = { ...strip(result), id };
    if (id === undefined) out.message = 'the server gave no Location header, so the new resource id is unknown';
    else if (!location) out.message = 'the server gave no Location header; id taken from the response body';
    return out;
  }

  /** Replace the resource `id`. The id goes in the body too: some implementations insist on it. */
  async put(resource: string, id: string, body: object): Promise<ApiResult> {
    const result = await this.#send('PUT', this.#url(resource, id), { ...body, id }, [200, 201, 204]);
    return { ...strip(result), id };
  }

  /** Delete the resource `id`. A 404 comes back as ok: false, status 404: the caller decides it is already gone. */
  async delete(resource: string, id: string): Promise<ApiResult> {
    const result = await this.#send('DELETE', this.#url(resource, id), undefined, [200, 204]);
    return { ...strip(result), id };
  }

  async get(resource: string, query: Query = {}, opts: PageOptions = {}): Promise<PageResult> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) params.set(name, String(value));
    if (opts.offset !== undefined) params.set('offset', String(opts.offset));
    if (opts.limit !== undefined) params.set('limit', String(opts.limit));
    if (opts.totalCount) params.set('totalCount', 'true');
    const result = await this.#send('GET', this.#url(resource, undefined, params), undefined, [200]);
    if (!result.ok) return strip(result);
    const json = result.parsed?.json;
    if (!Array.isArray(json)) {
      return { ...strip(result), ok: false, message: 'expected a JSON array from the GET, got something else' };
    }
    const out: PageResult = { ...strip(result), items: json };
    const total = Number.parseInt(result.headers?.['total-count'] ?? '', 10);
    if (Number.isFinite(total) && total >= 0) out.totalCount = total;
    return out;
  }

  /**
   * Every item matching `query`, page by page with offset/limit. Stops at Total-Count when the server
   * gives it, otherwise at the first short page. Throws EdFiRequestError when a page fails.
   */
  async *getAll(resource: string, query: Query = {}, pageSize: number = DEFAULT_PAGE_SIZE): AsyncIterable<object> {
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize must be a whole number of at least 1');
    let offset = 0;
    let total: number | undefined;
    for (;;) {
      const page = await this.get(resource, query, { offset, limit: pageSize, totalCount: offset === 0 });
      if (!page.ok || !page.items) throw new EdFiRequestError(page);
      if (offset === 0) total = page.totalCount;
      for (const item of page.items) {
        if (typeof item === 'object' && item !== null) yield item;
      }
      offset += page.items.length;
      if (page.items.length === 0) return;
      if (total !== undefined ? offset >= total : page.items.length < pageSize) return;
    }
  }

  async getById(resource: string, id: string): Promise<ApiResult> {
    const result = await this.#send('GET', this.#url(resource, id), undefined, [200]);
    return { ...strip(result), id };
  }

  #url(resource: string, id?: string, params?: URLSearchParams): URL {
    const path = `${this.#dataPath}${normalizePath(resource)}${id === undefined ? '' : `/${encodeURIComponent(id)}`}`;
    const url = new URL(`${this.#baseUrl}${path}`);
    if (params) url.search = params.toString();
    return url;
  }

  async #send(method: Method, url: URL, payload: object | undefined, accepted: readonly number[]): Promise<Exchange> {
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    const path = url.pathname;
    let reauthorized = false;
    for (let attempt = 1; ; attempt++) {
      const token = await this.#tokens.get();
      let response: Response;
      let text: string;
      try {
        const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
        if (body !== undefined) headers['content-type'] = 'application/json';
        response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.#timeoutMs) });
        text = await response.text();
      } catch (err) {
        // Retrying a POST whose answer was lost is safe: Ed-Fi POST is an upsert on the natural key.
        // A retried DELETE may meet 404, which the caller already reads as "gone".
        const failure = describeTransportError(err, this.#timeoutMs);
        const decision = failure.retryable ? this.#decide(attempt, undefined, null) : undefined;
        if (decision?.retry) {
          await this.#wait(method, path, attempt, 0, failure.message, decision);
          continue;
        }
        return { ok: false, status: 0, attempts: attempt, message: this.#clean(failure.message + whyNotRetried(decision)) };
      }

      const status = response.status;
      const headers = this.#headers(response.headers);
      if (status === 401 && !reauthorized) {
        // Tokens can be revoked or expire early (servers differ on expires_in): one try with a new token.
        reauthorized = true;
        this.#tokens.reject(token);
        this.#emit({ type: 'unauthorized', method, path });
        continue;
      }
      const parsed = parseBody(text);
      if (accepted.includes(status)) return { ok: true, status, attempts: attempt, headers, parsed, body: parsed.json };

      const serverText = readErrorText(parsed) ?? `HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''}`;
      let decision: RetryDecision | undefined;
      if (isRetryableStatus(status)) {
        decision = this.#decide(attempt, status, headers['retry-after']);
        if (decision.retry) {
          await this.#wait(method, path, attempt, status, serverText, decision);
          continue;
        }
      }
      return {
        ok: false,
        status,
        attempts: attempt,
        headers,
        message: this.#clean(serverText + whyNotRetried(decision)),
        body: parsed.json === undefined ? undefined : this.#redactor.json(parsed.json),
      };
    }
  }

  #decide(attempt: number, status: number | undefined, retryAfter: string | null | undefined): RetryDecision {
    const decision = this.#retry.decide(attempt, status, retryAfter);
    if (!decision.retry && decision.reason === 'run-budget' && !this.#budgetReported) {
      this.#budgetReported = true;
      this.#emit({ type: 'retry-budget-exhausted', retriesUsed: this.#retry.used });
    }
    return decision;
  }

  async #wait(method: string, path: string, attempt: number, status: number, reason: string, decision: RetryDecision & { retry: true }): Promise<void> {
    this.#emit({
      type: 'retry-scheduled',
      method,
      path,
      attempt,
      delayMs: decision.delayMs,
      status,
      reason: this.#clean(reason),
      fromRetryAfter: decision.fromRetryAfter,
    });
    await sleep(decision.delayMs);
  }

  #headers(headers: Headers): Record<string, string> {
    const out: Record<string, string> = {};
    headers.forEach((value, name) => {
      out[name] = this.#redactor.text(value);
    });
    return out;
  }

  #clean(text: string): string {
    return this.#redactor.text(text);
  }
}

function whyNotRetried(decision: RetryDecision | undefined): string {
  if (!decision || decision.retry) return '';
  switch (decision.reason) {
    case 'max-attempts':
      return '';
    case 'run-budget':
      return ' (not retried: the retry budget of this run is used up)';
    case 'retry-after-too-long':
      return ` (not retried: the server asked to wait ${Math.round(decision.retryAfterMs / 1000)} s)`;
  }
}

/** The exchange as the caller sees it, without the internal parsed body. */
function strip(exchange: Exchange): ApiResult {
  const { parsed: _parsed, ...result } = exchange;
  return result;
}

function normalizePath(path: string): string {
  const trimmed = path.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/** The last path segment of a Location (absolute or relative), decoded. */
function lastSegment(location: string, base: string): string | undefined {
  let pathname: string;
  try {
    pathname = new URL(location, `${base}/`).pathname;
  } catch {
    return undefined;
  }
  const segment = pathname.split('/').filter((s) => s !== '').pop();
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function idInBody(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const id = (json as Record<string, unknown>).id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}
