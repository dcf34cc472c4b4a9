// Failures a test can ask the test server to produce: error statuses, slow answers, dropped
// connections and expired tokens, each for a number of matching requests.

export interface FaultMatch {
  /** HTTP method, any case. */
  method?: string;
  /** A substring of the request path (with its query string). */
  pathIncludes?: string;
}

interface FaultBase {
  match?: FaultMatch;
  /** How many matching requests the fault applies to; default 1, Infinity for always. */
  times?: number;
}

export type StatusFault = FaultBase & { kind: 'status'; status: 500 | 502 | 503 | 429; retryAfterSeconds?: number };
/** Any answer, e.g. an ODS error this double cannot produce on its own (a 409 on a delete, a 400 of another version). */
export type AnswerFault = FaultBase & { kind: 'answer'; status: number; body: object; headers?: Record<string, string> };
export type LatencyFault = FaultBase & { kind: 'latency'; ms: number };
export type ResetFault = FaultBase & { kind: 'reset' };
export type ExpireTokensFault = FaultBase & { kind: 'expire-tokens' };
export type Fault = StatusFault | AnswerFault | LatencyFault | ResetFault | ExpireTokensFault;

/** What to do to one request. */
export interface FaultPlan {
  latencyMs: number;
  expireTokens: boolean;
  /** A fault that answers the request instead of the server. */
  answer?: StatusFault | AnswerFault | ResetFault;
}

export class FaultInjector {
  private faults: { fault: Fault; remaining: number }[] = [];
  private latencyMs = 0;

  add(fault: Fault): void {
    const times = fault.times ?? 1;
    if (!(times > 0)) throw new Error('A fault needs times > 0');
    this.faults.push({ fault, remaining: times });
  }

  /** A delay before every answer, on top of latency faults. */
  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  clear(): void {
    this.faults = [];
    this.latencyMs = 0;
  }

  /** Faults added and not used up yet. */
  get pending(): number {
    return this.faults.length;
  }

  /**
   * Decides what happens to a request and uses up the faults that apply: every matching latency and
   * expire-tokens fault, and the first matching status or reset fault.
   */
  plan(method: string, path: string): FaultPlan {
    const plan: FaultPlan = { latencyMs: this.latencyMs, expireTokens: false };
    for (const entry of this.faults) {
      if (!matches(entry.fault.match, method, path)) continue;
      const fault = entry.fault;
      if (fault.kind === 'latency') plan.latencyMs += fault.ms;
      else if (fault.kind === 'expire-tokens') plan.expireTokens = true;
      else if (plan.answer) continue;
      else plan.answer = fault;
      entry.remaining -= 1;
    }
    this.faults = this.faults.filter((entry) => entry.remaining > 0);
    return plan;
  }
}

function matches(match: FaultMatch | undefined, method: string, path: string): boolean {
  if (!match) return true;
  if (match.method && match.method.toUpperCase() !== method.toUpperCase()) return false;
  if (match.pathIncludes && !path.includes(match.pathIncludes)) return false;
  return true;
}
