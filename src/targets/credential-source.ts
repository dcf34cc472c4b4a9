import { readFileSync } from 'node:fs';
import { describeSource, type CredentialSource, type Credentials } from './types.js';

/**
 * A credentials file: EDFI_CLIENT_ID= and EDFI_CLIENT_SECRET= lines, or JSON {clientId, clientSecret} (also
 * {key, secret}). Nothing else is read from the environment: a connection's file never falls back to another key.
 */
function parseCredentialFile(text: string): Partial<Credentials> {
  if (text.trim().startsWith('{')) {
    const j = JSON.parse(text) as { clientId?: string; clientSecret?: string; key?: string; secret?: string };
    return { clientId: j.clientId ?? j.key, clientSecret: j.clientSecret ?? j.secret };
  }
  const out: Partial<Credentials> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?(EDFI_CLIENT_ID|EDFI_CLIENT_SECRET)\s*=\s*(.*?)\s*$/.exec(line);
    const value = m?.[2]?.replace(/^(['"])(.*)\1$/, '$2');
    if (m?.[1] === 'EDFI_CLIENT_ID') out.clientId = value;
    if (m?.[1] === 'EDFI_CLIENT_SECRET') out.clientSecret = value;
  }
  return out;
}

/** A connection's credentials could not be read: a configuration problem of that connection only. */
export class MissingCredentialsError extends Error {
  override readonly name = 'MissingCredentialsError';
  constructor(readonly connection: string, message: string) {
    super(message);
  }
}

/** Reads the key and secret from where the target says; the error names the source, never a value. */
export function readCredentialSource(source: CredentialSource, connection: string, env: NodeJS.ProcessEnv = process.env): Credentials {
  let found: Partial<Credentials>;
  if (source.kind === 'env') {
    found = { clientId: env[source.keyEnv], clientSecret: env[source.secretEnv] };
  } else {
    try {
      found = parseCredentialFile(readFileSync(source.file, 'utf8'));
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? 'not readable as KEY=VALUE lines or JSON';
      throw new MissingCredentialsError(connection, `connection ${connection}: cannot read the credentials ${describeSource(source)} (${why})`);
    }
  }
  const missing = [!found.clientId && 'key', !found.clientSecret && 'secret'].filter(Boolean);
  if (missing.length > 0) {
    throw new MissingCredentialsError(connection, `connection ${connection}: no ${missing.join(' and ')} in ${describeSource(source)}`);
  }
  return { clientId: found.clientId!, clientSecret: found.clientSecret! };
}
