// The OAuth2 client-credentials token, fetched once and shared by every request of the client.
// Concurrent callers wait on one token request; a token is renewed shortly before it expires and
// whenever the API rejects it, because servers differ in what they say about its lifetime.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { createHttpAgent, headerValue, send, type RawResponse } from '../api/http-agent.js';
import { parseBody, readErrorText } from './error-body.js';
import type { ClientEventHandler } from './events.js';
import type { Redactor } from './redact.js';
import { isRetryableStatus, type RetryPolicy } from './retry.js';
import { describeTransportError } from './transport-error.js';

/** Lifetime assumed when the server's expires_in cannot be trusted. */
const ASSUMED_LIFETIME_S = 300;
/** An expires_in above a day is not a lifetime: some servers send an absolute epoch time there. */
const MAX_PLAUSIBLE_LIFETIME_S = 86_400;
/** An expires_in at or above this (2001-09-09 in epoch seconds) is read as a point in time, not a duration. */
const EPOCH_SECONDS_FLOOR = 1_000_000_000;
const MAX_REFRESH_MARGIN_S = 60;

/** The token could not be had: bad credentials, wrong URL, or the token endpoint is down. */
export class EdFiAuthError extends Error {
  override readonly name = 'EdFiAuthError';
  /** EXIT.unreachable: a command that cannot get a token stops with it. */
  readonly exitCode = 6;
  constructor(
    message: string,
    /** HTTP status of the token endpoint, 0 when it did not answer. */
    readonly status: number,
    /** The OAuth error code (invalid_client, unauthorized_client, ...), when the server gave one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface TokenCacheOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  retry: RetryPolicy;
  redactor: Redactor;
  emit: ClientEventHandler;
  /** The run's pooled dispatcher; one of its own otherwise. */
  agent?: Dispatcher;
  now?: () => number;
}

interface HeldToken {
  value: string;
  /** When to stop using it and fetch another (ms since epoch), a margin before it expires. */
  renewAt: number;
}

export class TokenCache {
  // Private fields, so neither util.inspect nor JSON.stringify of the cache can show a credential.
  readonly #authorization: string;
  readonly #options: Omit<TokenCacheOptions, 'clientId' | 'clientSecret' | 'agent'>;
  readonly #agent: Dispatcher;
  readonly #now: () => number;
  /** Tokens some request got a non-401 answer with: a later 401 on one of them is an expiry, not a refusal. */
  readonly #worked = new Set<string>();
  /** The server's expires_in could not be used as a lifetime: said once per client, not at every renewal. */
  #lifetimeNoted = false;
  #held: HeldToken | undefined;
  #inFlight: Promise<string> | undefined;
  #lastRejected = false;
  readonly #formCredentials: string;
  /**
   * The ODS/API takes the key and secret as HTTP Basic or in the form body; some other Ed-Fi API implementations
   * take only one of them. Basic first; a 400/401 to it is tried once with the body, and what worked is kept.
   */
  #credentialsInBody = false;
  #bodyTried = false;

  constructor(options: TokenCacheOptions) {
    const { clientId, clientSecret, agent, ...rest } = options;
    this.#agent = agent ?? createHttpAgent({ timeoutMs: rest.timeoutMs });
    // Plain key:secret, not form-encoded first as RFC 6749 §2.3.1 asks: Ed-Fi clients and servers use the
    // pair as it is, and a base64-style secret holding '+' or '/' would be changed by form-encoding.
    const basic = Buffer.from(`${clientId}:${clientSecret}`).toString('base64');
    this.#authorization = `Basic ${basic}`;
    this.#formCredentials = `&client_id=${encodeURIComponent(clientId)}&client_secret=${encodeURIComponent(clientSecret)}`;
    rest.redactor.add(clientId);
    rest.redactor.add(clientSecret);
    rest.redactor.add(basic);
    rest.redactor.add(encodeURIComponent(clientId));
    rest.redactor.add(encodeURIComponent(clientSecret));
    this.#options = rest;
    this.#now = options.now ?? Date.now;
  }

  /** A token that is valid now, fetching one if needed. Throws EdFiAuthError when none can be had. */
  async get(): Promise<string> {
    const held = this.#held;
    if (held && this.#now() < held.renewAt) return held.value;
    if (!this.#inFlight) {
      const reason = this.#lastRejected ? 'rejected' : held ? 'expiring' : 'first';
      this.#inFlight = this.#fetch(reason).finally(() => {
        this.#inFlight = undefined;
      });
    }
    return this.#inFlight;
  }

  /**
   * The API answered 401 to a request made with `token`. Drop it, unless it was already replaced
   * (many requests in flight get their 401s together; only one new token should come of it).
   */
  reject(token: string): void {
    this.#worked.delete(token);
    if (this.#held?.value !== token) return;
    this.#held = undefined;
    this.#lastRejected = true;
  }

  /** A request with `token` got an answer other than 401. */
  worked(token: string): void {
    if (this.#worked.size > 16) this.#worked.clear();
    this.#worked.add(token);
  }

  /** Whether some request had an answer other than 401 with `token`. */
  hasWorked(token: string): boolean {
    return this.#worked.has(token);
  }

  async #fetch(reason: 'first' | 'expiring' | 'rejected'): Promise<string> {
    const { tokenUrl, timeoutMs, retry, emit } = this.#options;
    emit({ type: 'token-requested', reason });
    for (let attempt = 1; ; attempt++) {
      let response: RawResponse;
      try {
        const inBody = this.#credentialsInBody;
        response = await send(
          this.#agent,
          tokenUrl,
          'POST',
          {
            ...(inBody ? {} : { authorization: this.#authorization }),
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          `grant_type=client_credentials${inBody ? this.#formCredentials : ''}`,
        );
      } catch (err) {
        const failure = describeTransportError(err, timeoutMs);
        const decision = failure.retryable ? retry.decide(attempt, undefined) : undefined;
        if (decision?.retry) {
          await sleep(decision.delayMs);
          continue;
        }
        throw this.#fail(0, `Ed-Fi authentication failed: could not reach the token endpoint ${tokenUrl}: ${failure.message}`);
      }

      const body = parseBody(response.text);
      if (response.status >= 200 && response.status < 300) return this.#accept(body.json);

      const code = oauthErrorCode(body.json);
      if ((response.status === 400 || response.status === 401) && !this.#credentialsInBody && !this.#bodyTried) {
        this.#bodyTried = true;
        this.#credentialsInBody = true;
        continue;
      }
      if (this.#bodyTried && this.#credentialsInBody && !this.#held && (response.status === 400 || response.status === 401)) {
        // Neither way was accepted: report it as the Basic answer would have been, and start from Basic next time.
        this.#credentialsInBody = false;
      }
      if (isRetryableStatus(response.status)) {
        const decision = retry.decide(attempt, response.status, headerValue(response.headers, 'retry-after'));
        if (decision.retry) {
          await sleep(decision.delayMs);
          continue;
        }
      }
      throw this.#fail(response.status, authFailureMessage(response.status, code, tokenUrl, readErrorText(body)), code);
    }
  }

  #accept(json: unknown): string {
    const record = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
    const value = record.access_token;
    if (typeof value !== 'string' || value === '') {
      throw this.#fail(200, 'Ed-Fi authentication failed: the token endpoint answered without an access_token');
    }
    this.#options.redactor.add(value);
    const stated = Number(record.expires_in);
    const plausible = Number.isFinite(stated) && stated > 0 && stated <= MAX_PLAUSIBLE_LIFETIME_S;
    const lifetimeS = plausible ? stated : ASSUMED_LIFETIME_S;
    if (!plausible && !this.#lifetimeNoted) {
      this.#lifetimeNoted = true;
      this.#options.emit({ type: 'token-lifetime-assumed', stated: describeExpiresIn(record.expires_in), reason: lifetimeProblem(record.expires_in, stated), assumedSeconds: ASSUMED_LIFETIME_S });
    }
    const marginS = Math.min(MAX_REFRESH_MARGIN_S, lifetimeS / 10);
    this.#held = { value, renewAt: this.#now() + (lifetimeS - marginS) * 1000 };
    this.#lastRejected = false;
    this.#options.emit({ type: 'token-refreshed', expiresInSeconds: lifetimeS, lifetimeAssumed: !plausible });
    return value;
  }

  #fail(status: number, message: string, code?: string): EdFiAuthError {
    const clean = this.#options.redactor.text(message);
    this.#options.emit({ type: 'token-failed', status, message: clean });
    return new EdFiAuthError(clean, status, code === undefined ? undefined : this.#options.redactor.text(code));
  }
}

function authFailureMessage(status: number, code: string | undefined, tokenUrl: string, serverText: string | undefined): string {
  const label = code ? `${status} ${code}` : `${status}`;
  if (status === 400 || status === 401 || status === 403 || code === 'invalid_client') {
    // Where the key and secret came from (environment, credentials file, targets file) is the caller's to say.
    return `Ed-Fi authentication failed (${label}): the token endpoint ${tokenUrl} refused the key and secret`;
  }
  if (status === 404) return `Ed-Fi authentication failed (${label}): no token endpoint at ${tokenUrl}; check the base URL`;
  return `Ed-Fi authentication failed (${label}): ${serverText ?? 'the token endpoint gave no reason'}`;
}

/** What was wrong with an expires_in that is not a usable lifetime. */
function lifetimeProblem(raw: unknown, stated: number): 'missing' | 'not-a-number' | 'not-positive' | 'epoch-time' | 'too-long' {
  if (raw === undefined || raw === null || raw === '') return 'missing';
  if (!Number.isFinite(stated)) return 'not-a-number';
  if (stated <= 0) return 'not-positive';
  return stated >= EPOCH_SECONDS_FLOOR ? 'epoch-time' : 'too-long';
}

/** The stated expires_in for a log line: a number or a short word, never anything long a server put there. */
function describeExpiresIn(raw: unknown): string {
  if (typeof raw === 'number') return String(raw);
  if (typeof raw === 'string' && /^[\w.:+-]{1,32}$/.test(raw)) return raw;
  return raw === undefined ? '(none)' : '(not a number)';
}

function oauthErrorCode(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const error = (json as Record<string, unknown>).error;
  return typeof error === 'string' && /^[\w.-]{1,64}$/.test(error) ? error : undefined;
}
