// What went wrong when fetch threw instead of answering, in words and as a retry decision.
// Node's fetch (undici) throws TypeError('fetch failed') and hides the reason in `cause`
// (sometimes an AggregateError, one per address tried); undici's own request() throws its errors directly, and
// a timeout is the dispatcher's headers/body timeout (or an AbortSignal 'TimeoutError' with fetch).

export interface TransportFailure {
  /** ECONNRESET, ECONNREFUSED, UND_ERR_SOCKET, TIMEOUT, ... or UNKNOWN. */
  code: string;
  message: string;
  retryable: boolean;
}

/** Failures where the same request may well succeed a moment later. */
const RETRYABLE_CODES = new Set([
  'TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const WORDS: Record<string, string> = {
  TIMEOUT: 'request timed out',
  ECONNRESET: 'connection reset by the server',
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed while sending',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed temporarily',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'response body stalled',
};

/** The dispatcher's timeouts: no answer in time is a timeout, whichever stage it stalled at. */
const TIMEOUT_CODES: Record<string, string> = {
  UND_ERR_HEADERS_TIMEOUT: 'no response headers',
  UND_ERR_BODY_TIMEOUT: 'response body stalled',
  UND_ERR_CONNECT_TIMEOUT: 'could not connect',
};

export function describeTransportError(err: unknown, timeoutMs: number): TransportFailure {
  if (isTimeout(err)) {
    return { code: 'TIMEOUT', message: `request timed out after ${timeoutMs} ms`, retryable: true };
  }
  const code = findCode(err) ?? 'UNKNOWN';
  const stage = TIMEOUT_CODES[code];
  if (stage) return { code, message: `request timed out after ${timeoutMs} ms (${stage}, ${code})`, retryable: true };
  const words = WORDS[code] ?? 'network error';
  return { code, message: `${words} (${code})`, retryable: RETRYABLE_CODES.has(code) };
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

function findCode(err: unknown, depth = 0): string | undefined {
  if (depth > 5 || typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code !== '') return code;
  if (err instanceof AggregateError) {
    for (const inner of err.errors) {
      const found = findCode(inner, depth + 1);
      if (found) return found;
    }
  }
  return findCode((err as { cause?: unknown }).cause, depth + 1);
}
