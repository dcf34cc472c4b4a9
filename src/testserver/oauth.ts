// The token endpoint: client credentials as HTTP Basic or in the body (form or JSON), never both.
import type { IncomingHttpHeaders } from 'node:http';
import type { TokenAnswer, TokenRegistry } from './tokens.js';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

export type TokenResponse = { status: 200; body: TokenAnswer } | { status: 400 | 401; body: { error: string } };

function parseBody(headers: IncomingHttpHeaders, text: string): Record<string, string> {
  if (!text.trim()) return {};
  const type = String(headers['content-type'] ?? '').toLowerCase();
  if (type.includes('application/json') || text.trim().startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object') return {};
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

function basicCredentials(headers: IncomingHttpHeaders): ClientCredentials | 'malformed' | undefined {
  const header = headers.authorization;
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  return { clientId: decoded.slice(0, colon), clientSecret: decoded.slice(colon + 1) };
}

export function answerTokenRequest(
  headers: IncomingHttpHeaders,
  bodyText: string,
  expected: ClientCredentials,
  tokens: TokenRegistry,
): TokenResponse {
  const form = parseBody(headers, bodyText);
  const basic = basicCredentials(headers);
  const inBody = form['client_id'] !== undefined || form['client_secret'] !== undefined;
  if ((basic && inBody) || basic === 'malformed') return { status: 400, body: { error: 'invalid_client' } };
  if (form['grant_type'] !== 'client_credentials') return { status: 400, body: { error: 'unsupported_grant_type' } };
  const given = basic ?? (inBody ? { clientId: form['client_id'] ?? '', clientSecret: form['client_secret'] ?? '' } : undefined);
  if (!given) return { status: 400, body: { error: 'invalid_client' } };
  if (given.clientId !== expected.clientId || given.clientSecret !== expected.clientSecret) {
    return { status: 401, body: { error: 'invalid_client' } };
  }
  return { status: 200, body: tokens.issue() };
}
