// One pooled HTTP dispatcher per run: keep-alive connections and the request timeouts live on the dispatcher, so
// a request allocates no timer, abort signal or socket of its own. The emitter's client and a bare request loop
// (the benchmark's baseline) can share the same dispatcher and so pay the same connection costs.

import { Agent, request, type Dispatcher } from 'undici';

export const DEFAULT_TIMEOUT_MS = 30_000;

export interface HttpAgentOptions {
  /** No response headers (or no body progress) for this long: the request fails as timed out. Default 30 s. */
  timeoutMs?: number;
  /** Sockets per origin; default unlimited (the emitter's concurrency bounds what is in flight). */
  connections?: number;
}

export type HttpAgent = Dispatcher;

export function createHttpAgent(o: HttpAgentOptions = {}): Agent {
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Agent({
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: { timeout: timeoutMs },
    connections: o.connections ?? null,
  });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request, its whole body read as text. Transport failures throw (see transport-error.ts). */
export async function send(
  agent: Dispatcher,
  url: string | URL,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  headers: Record<string, string>,
  body?: string,
): Promise<RawResponse> {
  const res = await request(url, { method, headers, body, dispatcher: agent });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

/** A header's first value. */
export function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
