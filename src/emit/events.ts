// What the client reports while it works, for logs and progress bars.
// Events carry paths, statuses and timings only: never a credential, token or request body.

export type ClientEvent =
  | { type: 'token-requested'; reason: 'first' | 'expiring' | 'rejected' }
  | { type: 'token-refreshed'; expiresInSeconds: number; lifetimeAssumed: boolean }
  | { type: 'token-failed'; status: number; message: string }
  | {
      /** The token endpoint's expires_in is no usable lifetime: a short one is assumed (said once per client). */
      type: 'token-lifetime-assumed';
      stated: string;
      reason: 'missing' | 'not-a-number' | 'not-positive' | 'epoch-time' | 'too-long';
      assumedSeconds: number;
    }
  | { type: 'unauthorized'; method: string; path: string }
  | {
      type: 'retry-scheduled';
      method: string;
      path: string;
      /** The attempt that just failed (1-based). */
      attempt: number;
      delayMs: number;
      /** HTTP status, or 0 when no answer came (timeout, reset, refused). */
      status: number;
      reason: string;
      fromRetryAfter: boolean;
    }
  | { type: 'retry-budget-exhausted'; retriesUsed: number };

export type ClientEventHandler = (event: ClientEvent) => void;
