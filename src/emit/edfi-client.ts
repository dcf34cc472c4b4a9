// The Ed-Fi API client: POST, PUT, DELETE and GET of one resource, with the token, retries and error texts
// handled here so the emitter deals only in results. It speaks every generation (ODS/API 5.x-7.x, the DMS):
// the URLs come from discovery (src/api), the paging style from the flavor.
//
// HTTP failures come back as results (ok: false, status, message), never as exceptions, so a run can
// record each one and go on. Two things do throw: EdFiAuthError when no token can be had (every later
// call would fail the same way), and EdFiRequestError from getAll, which has no result to return.

import { STATUS_CODES } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { createHttpAgent, headerValue, send, type RawResponse } from '../api/http-agent.js';
import { parseBody, readErrorText, type ParsedBody } from './error-body.js';
import type { ClientEvent, ClientEventHandler } from './events.js';
import { Redactor } from './redact.js';
import { isRetryableStatus, RetryPolicy, type RetryDecision, type RetrySettings } from './retry.js';
import { TokenCache } from './token.js';
import { describeTransportError } from './transport-error.js';

export type { ClientEvent } from './events.js';
export { EdFiAuthError } from './token.js';

export interface EdFiClientOptions {
  /**
   * The API root when no discovery was made: the token is at {baseUrl}/oauth/token and the data at
   * {baseUrl}{dataPath}. Discovery (src/api) gives `tokenUrl` and `dataUrl` instead.
   */
  baseUrl?: string;
  /** With baseUrl: default '/data/v3'; year-specific instances use e.g. '/data/v3/2026'. */
  dataPath?: string;
  /** Base of the resource collections, e.g. https://host/2026/data/v3 (wins over baseUrl + dataPath). */
  dataUrl?: string;
  /** The OAuth2 token endpoint (wins over {baseUrl}/oauth/token). */
  tokenUrl?: string;
  /** How getAll reads a collection: offset/limit (ODS/API) or cursor (pageToken, the DMS). Default offset. */
  paging?: 'offset' | 'cursor';
  clientId: string;
  clientSecret: string;
  /** Per request, default 30000: no headers (or body progress) for this long and the request fails. */
  timeoutMs?: number;
  retry?: RetrySettings;
  /** Progress and log events; they never carry credentials, tokens or bodies. */
  onEvent?: (event: ClientEvent) => void;
  /** A run's pooled dispatcher, shared by its clients (src/api/http-agent.ts); one of its own otherwise. */
  agent?: Dispatcher;
  /** A run's retry budget, shared by its clients; one of its own otherwise. */
  retryPolicy?: RetryPolicy;
  /** A run's redactor, shared by its clients so a secret or token any of them knows is masked by all. */
  redactor?: Redactor;
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
  /** Cursor paging: the Next-Page-Token header, absent on the last page. */
  nextPageToken?: string;
}

export interface PageOptions {
  offset?: number;
  limit?: number;
  totalCount?: boolean;
  /** Cursor paging: the token of the page to read (from the previous page's Next-Page-Token). */
  pageToken?: string;
  /** Cursor paging: items per page with pageToken. */
  pageSize?: number;
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
/** The Ed-Fi APIs' default page-size cap; larger limits are refused with 400. */
const DEFAULT_PAGE_SIZE = 500;
/**
 * New tokens one request may fetch after 401s. A 401 on a token that has worked before is an expiry and earns a
 * new token; a 401 on a token that never worked means the credentials are refused, and is not tried again.
 */
const MAX_REAUTHORIZATIONS = 3;

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface Exchange extends ApiResult {
  parsed?: ParsedBody;
}

export class EdFiClient {
  readonly #dataUrl: string;
  readonly #paging: 'offset' | 'cursor';
  readonly #timeoutMs: number;
  readonly #retry: RetryPolicy;
  readonly #redactor: Redactor;
  readonly #tokens: TokenCache;
  readonly #agent: Dispatcher;
  readonly #emit: ClientEventHandler;
  /** Collection URLs by resource path, built once. */
  readonly #collections = new Map<string, string>();
  /** Request headers for the current token, built once per token. */
  #headersFor: { token: string; read: Record<string, string>; write: Record<string, string> } | undefined;
  #budgetReported = false;

  constructor(options: EdFiClientOptions) {
    const base = options.baseUrl?.replace(/\/+$/, '');
    const dataUrl = options.dataUrl ?? (base !== undefined ? `${base}${normalizePath(options.dataPath ?? DEFAULT_DATA_PATH)}` : undefined);
    const tokenUrl = options.tokenUrl ?? (base !== undefined ? `${base}/oauth/token` : undefined);
    if (dataUrl === undefined || tokenUrl === undefined) throw new TypeError('EdFiClient needs baseUrl, or dataUrl and tokenUrl');
    this.#dataUrl = dataUrl.replace(/\/+$/, '');
    this.#paging = options.paging ?? 'offset';
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#retry = options.retryPolicy ?? new RetryPolicy(options.retry);
    this.#redactor = options.redactor ?? new Redactor();
    this.#agent = options.agent ?? createHttpAgent({ timeoutMs: this.#timeoutMs });
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
      tokenUrl,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      timeoutMs: this.#timeoutMs,
      retry: this.#retry,
      redactor: this.#redactor,
      emit: this.#emit,
      agent: this.#agent,
    });
  }

  /** The base of the resource collections this client writes to (its ODS instance). */
  get dataUrl(): string {
    return this.#dataUrl;
  }

  /** Retries spent so far by this client (the run), against retry.maxRetriesPerRun. */
  get retriesUsed(): number {
    return this.#retry.used;
  }

  async authenticate(): Promise<void> {
    await this.#tokens.get();
  }

  /** Create or update by natural key. 201 created, 200 updated; the id is the last segment of Location. */
  async post(resource: string, body: object): Promise<ApiResult> {
    const result = await this.#send('POST', this.#collection(resource), body, [200, 201]);
    if (!result.ok) return strip(result);
    const location = result.headers?.location;
    const id = location ? lastSegment(location) : idInBody(result.parsed?.json);
    const out: ApiResult = { ...strip(result), id };
    if (id === undefined) out.message = 'the server gave no Location header, so the new resource id is unknown';
    else if (!location) out.message = 'the server gave no Location header; id taken from the response body';
    return out;
  }

  /** Replace the resource `id`. The id goes in the body too: some implementations insist on it. */
  async put(resource: string, id: string, body: object): Promise<ApiResult> {
    const result = await this.#send('PUT', this.#item(resource, id), { ...body, id }, [200, 201, 204]);
    return { ...strip(result), id };
  }

  /** Delete the resource `id`. A 404 comes back as ok: false, status 404: the caller decides it is already gone. */
  async delete(resource: string, id: string): Promise<ApiResult> {
    const result = await this.#send('DELETE', this.#item(resource, id), undefined, [200, 204]);
    return { ...strip(result), id };
  }

  async get(resource: string, query: Query = {}, opts: PageOptions = {}): Promise<PageResult> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) params.set(name, String(value));
    if (opts.pageToken !== undefined) params.set('pageToken', opts.pageToken);
    if (opts.pageSize !== undefined) params.set('pageSize', String(opts.pageSize));
    if (opts.offset !== undefined) params.set('offset', String(opts.offset));
    if (opts.limit !== undefined) params.set('limit', String(opts.limit));
    if (opts.totalCount) params.set('totalCount', 'true');
    const search = params.toString();
    const url = search === '' ? this.#collection(resource) : `${this.#collection(resource)}?${search}`;
    const result = await this.#send('GET', url, undefined, [200]);
    if (!result.ok) return strip(result);
    const json = result.parsed?.json;
    if (!Array.isArray(json)) {
      return { ...strip(result), ok: false, message: 'expected a JSON array from the GET, got something else' };
    }
    const out: PageResult = { ...strip(result), items: json };
    const total = Number.parseInt(result.headers?.['total-count'] ?? '', 10);
    if (Number.isFinite(total) && total >= 0) out.totalCount = total;
    const next = result.headers?.['next-page-token'];
    if (next) out.nextPageToken = next;
    return out;
  }

  /**
   * Every item matching `query`, page by page in the API's paging style. Offset paging stops at Total-Count when the
   * server gives it, otherwise at the first short page; cursor paging follows Next-Page-Token until a page comes
   * without one (an empty page with a token is followed: the DMS documents that). Throws EdFiRequestError when a
   * page fails.
   */
  async *getAll(resource: string, query: Query = {}, pageSize: number = DEFAULT_PAGE_SIZE): AsyncIterable<object> {
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize must be a whole number of at least 1');
    if (this.#paging === 'cursor') {
      yield* this.#getAllByCursor(resource, query, pageSize);
      return;
    }
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

  async *#getAllByCursor(resource: string, query: Query, pageSize: number): AsyncIterable<object> {
    const seen = new Set<string>();
    let page = await this.get(resource, query, { limit: pageSize });
    for (;;) {
      if (!page.ok || !page.items) throw new EdFiRequestError(page);
      for (const item of page.items) {
        if (typeof item === 'object' && item !== null) yield item;
      }
      const token = page.nextPageToken;
      if (!token) return;
      if (seen.has(token)) {
        throw new EdFiRequestError({ ...page, ok: false, message: 'the API answered the same Next-Page-Token twice: paging stopped to avoid a loop' });
      }
      seen.add(token);
      page = await this.get(resource, query, { pageToken: token, pageSize });
    }
  }

  async getById(resource: string, id: string): Promise<ApiResult> {
    const result = await this.#send('GET', this.#item(resource, id), undefined, [200]);
    return { ...strip(result), id };
  }

  #collection(resource: string): string {
    let url = this.#collections.get(resource);
    if (url === undefined) this.#collections.set(resource, (url = `${this.#dataUrl}${normalizePath(resource)}`));
    return url;
  }

  #item(resource: string, id: string): string {
    return `${this.#collection(resource)}/${encodeURIComponent(id)}`;
  }

  #headers(token: string, withBody: boolean): Record<string, string> {
    let h = this.#headersFor;
    if (h?.token !== token) {
      const read = { authorization: `Bearer ${token}`, accept: 'application/json' };
      h = this.#headersFor = { token, read, write: { ...read, 'content-type': 'application/json' } };
    }
    return withBody ? h.write : h.read;
  }

  async #send(method: Method, url: string, payload: object | undefined, accepted: readonly number[]): Promise<Exchange> {
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    let reauthorizations = 0;
    for (let attempt = 1; ; attempt++) {
      const token = await this.#tokens.get();
      let response: RawResponse;
      try {
        response = await send(this.#agent, url, method, this.#headers(token, body !== undefined), body);
      } catch (err) {
        // Retrying a POST whose answer was lost is safe: Ed-Fi POST is an upsert on the natural key.
        // A retried DELETE may meet 404, which the caller already reads as "gone".
        const failure = describeTransportError(err, this.#timeoutMs);
        const decision = failure.retryable ? this.#decide(attempt, undefined, null) : undefined;
        if (decision?.retry) {
          await this.#wait(method, url, attempt, 0, failure.message, decision);
          continue;
        }
        return { ok: false, status: 0, attempts: attempt, message: this.#clean(failure.message + whyNotRetried(decision)) };
      }

      const status = response.status;
      if (status === 401) {
        if (reauthorizations < MAX_REAUTHORIZATIONS && (reauthorizations === 0 || this.#tokens.hasWorked(token))) {
          // The token expired or was revoked (servers differ on expires_in, and restarts purge tokens): a new one.
          reauthorizations++;
          this.#tokens.reject(token);
          this.#emit({ type: 'unauthorized', method, path: pathOf(url) });
          continue;
        }
      } else {
        this.#tokens.worked(token);
      }
      const parsed = parseBody(response.text);
      if (accepted.includes(status)) return { ok: true, status, attempts: attempt, headers: flatten(response.headers), parsed, body: parsed.json };

      const headers = this.#cleanHeaders(response.headers);
      const serverText = readErrorText(parsed) ?? `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}`;
      let decision: RetryDecision | undefined;
      if (isRetryableStatus(status)) {
        decision = this.#decide(attempt, status, headers['retry-after']);
        if (decision.retry) {
          await this.#wait(method, url, attempt, status, serverText, decision);
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

  async #wait(method: string, url: string, attempt: number, status: number, reason: string, decision: RetryDecision & { retry: true }): Promise<void> {
    this.#emit({
      type: 'retry-scheduled',
      method,
      path: pathOf(url),
      attempt,
      delayMs: decision.delayMs,
      status,
      reason: this.#clean(reason),
      fromRetryAfter: decision.fromRetryAfter,
    });
    await sleep(decision.delayMs);
  }

  #cleanHeaders(headers: RawResponse['headers']): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      out[name] = this.#redactor.text(Array.isArray(value) ? value.join(', ') : value);
    }
    return out;
  }

  #clean(text: string): string {
    return this.#redactor.text(text);
  }
}

function flatten(headers: RawResponse['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    const v = headerValue(headers, name);
    if (v !== undefined) out[name] = v;
  }
  return out;
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

/** The path of a URL, for events (no host, no query). */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  const path = start < 0 ? '/' : url.slice(start);
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

/** The last path segment of a Location (absolute or relative), decoded. */
function lastSegment(location: string): string | undefined {
  const path = location.split(/[?#]/, 1)[0]!.replace(/\/+$/, '');
  const segment = path.slice(path.lastIndexOf('/') + 1);
  if (segment === '' || segment.includes(':')) return undefined;
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
