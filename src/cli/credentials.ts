import { readFileSync } from 'node:fs';

export interface Credentials {
  clientId: string;
  clientSecret: string;
}

/**
 * A credentials file that cannot be read or understood. Its message names the file and the line, never what the
 * line holds: a malformed line is as likely to contain the secret as a good one.
 */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
  constructor(
    message: string,
    /** EXIT.config: no key and secret given, or a file that does not give them (a connection without usable credentials). */
    readonly exitCode: number,
  ) {
    super(message);
  }
}

const CONFIG = 3;
const ID_NAMES = ['EDFI_CLIENT_ID', 'clientId', 'client_id', 'key'];
const SECRET_NAMES = ['EDFI_CLIENT_SECRET', 'clientSecret', 'client_secret', 'secret'];

/**
 * Key and secret from EDFI_CLIENT_ID / EDFI_CLIENT_SECRET, or from a file outside the profiles: KEY=VALUE lines
 * (`export`, quotes and `#` comments allowed) or JSON {clientId, clientSecret}. They are never echoed, logged or
 * written, and neither is any part of a file that cannot be read.
 */
export function readCredentials(file?: string): Credentials {
  let id = process.env.EDFI_CLIENT_ID;
  let secret = process.env.EDFI_CLIENT_SECRET;
  if (file) {
    const fromFile = readCredentialsFile(file);
    id = fromFile.clientId ?? id;
    secret = fromFile.clientSecret ?? secret;
  }
  if (!id || !secret) {
    const missing = [id ? '' : 'EDFI_CLIENT_ID', secret ? '' : 'EDFI_CLIENT_SECRET'].filter(Boolean).join(' and ');
    throw new CredentialsError(
      file
        ? `Ed-Fi API credentials are missing: ${file} gives no ${missing} (and the environment does not either)`
        : `Ed-Fi API credentials are missing: ${missing} ${missing.includes(' and ') ? 'are' : 'is'} not set (set ${missing.includes(' and ') ? 'them' : 'it'}, or give --credentials-file)`,
      CONFIG,
    );
  }
  return { clientId: id, clientSecret: secret };
}

export function readCredentialsFile(file: string): Partial<Credentials> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : 'cannot be read';
    throw new CredentialsError(`credentials file ${file}: ${why}`, CONFIG);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text.trim().startsWith('{') ? fromJson(text, file) : fromLines(text, file);
}

function fromJson(text: string, file: string): Partial<Credentials> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the text around the problem, so it is never shown: the place is found here.
    const position = jsonErrorOffset(text);
    const where = position === undefined ? '' : ` at ${lineAndColumn(text, position)}`;
    throw new CredentialsError(`credentials file ${file} is not valid JSON${where} (expected {"clientId": "...", "clientSecret": "..."})`, CONFIG);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CredentialsError(`credentials file ${file}: expected a JSON object {"clientId": "...", "clientSecret": "..."}`, CONFIG);
  }
  const record = parsed as Record<string, unknown>;
  const pick = (names: string[], label: string): string | undefined => {
    for (const name of names) {
      if (!(name in record)) continue;
      const v = record[name];
      if (typeof v !== 'string') throw new CredentialsError(`credentials file ${file}: '${name}' must be a string (for ${label})`, CONFIG);
      return v;
    }
    return undefined;
  };
  return { clientId: pick(ID_NAMES, 'the client id'), clientSecret: pick(SECRET_NAMES, 'the client secret') };
}

function fromLines(text: string, file: string): Partial<Credentials> {
  const out: Partial<Credentials> = {};
  const unreadable: number[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      unreadable.push(i + 1);
      return;
    }
    const name = m[1] as string;
    const value = unquote(m[2] as string);
    if (value === undefined) {
      unreadable.push(i + 1);
      return;
    }
    if (ID_NAMES.includes(name)) out.clientId = value;
    else if (SECRET_NAMES.includes(name)) out.clientSecret = value;
  });
  if (unreadable.length > 0) {
    throw new CredentialsError(
      `credentials file ${file}: line${unreadable.length === 1 ? '' : 's'} ${unreadable.join(', ')} ${unreadable.length === 1 ? 'is' : 'are'} not NAME=VALUE ` +
        '(expected EDFI_CLIENT_ID=... and EDFI_CLIENT_SECRET=... lines; the lines are not shown because they may hold the secret)',
      CONFIG,
    );
  }
  return out;
}

/** A value as written after '=': bare (a trailing ` # comment` dropped), or in matching quotes. Undefined if unbalanced. */
function unquote(value: string): string | undefined {
  const v = value.trim();
  const q = v[0];
  if (q === '"' || q === "'") {
    const end = v.indexOf(q, 1);
    if (end < 0) return undefined;
    const rest = v.slice(end + 1).trim();
    if (rest !== '' && !rest.startsWith('#')) return undefined;
    return v.slice(1, end);
  }
  return v.replace(/\s+#.*$/, '');
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

/**
 * Where a JSON text stops being valid: a small recursive-descent reader that knows only the grammar and keeps no
 * value, because the only other way to know (JSON.parse's message) quotes the text.
 */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const string = (): void => {
    if (text[i] !== '"') fail();
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) fail();
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const number = (): void => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail();
    i += (m as RegExpExecArray)[0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    number();
  };
  try {
    value();
    ws();
    return i < text.length ? i : undefined;
  } catch (at) {
    return typeof at === 'number' ? Math.min(at, text.length) : undefined;
  }
}
