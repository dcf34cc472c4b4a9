import { readFileSync } from 'node:fs';

export interface Credentials {
  clientId: string;
  clientSecret: string;
}

/**
 * Key and secret from EDFI_CLIENT_ID / EDFI_CLIENT_SECRET, or from a file outside the profiles
 * (KEY=VALUE lines or JSON {clientId, clientSecret}). They are never echoed, logged or written.
 */
export function readCredentials(file?: string): Credentials {
  let id = process.env.EDFI_CLIENT_ID;
  let secret = process.env.EDFI_CLIENT_SECRET;
  if (file) {
    const text = readFileSync(file, 'utf8');
    if (text.trim().startsWith('{')) {
      const j = JSON.parse(text) as { clientId?: string; clientSecret?: string; key?: string; secret?: string };
      id = j.clientId ?? j.key ?? id;
      secret = j.clientSecret ?? j.secret ?? secret;
    } else {
      for (const line of text.split(/\r?\n/)) {
        const m = /^\s*(EDFI_CLIENT_ID|EDFI_CLIENT_SECRET)\s*=\s*(.*?)\s*$/.exec(line);
        if (m?.[1] === 'EDFI_CLIENT_ID') id = m[2];
        if (m?.[1] === 'EDFI_CLIENT_SECRET') secret = m[2];
      }
    }
  }
  if (!id || !secret) {
    const err = new Error('Ed-Fi API credentials are missing: set EDFI_CLIENT_ID and EDFI_CLIENT_SECRET (or give --credentials-file)') as Error & { exitCode: number };
    err.exitCode = 2;
    throw err;
  }
  return { clientId: id, clientSecret: secret };
}
