// One readable sentence from whatever an Ed-Fi server put in an error body.
// ODS/API 5.x/6.x answer {"message", "modelState"}, 7.0/7.1 {code, type, message, modelState}, 7.2+ and the DMS
// answer problem+json (detail, errors, validationErrors by JSON path, a `type` URN), OAuth answers
// {"error": "invalid_client"}, other Ed-Fi implementations {"error": [{"message": ...}]}, and proxies in front answer
// HTML or text. The error catalogue matches on this text, so the server's words are kept as they are, only joined;
// a problem+json `type` is kept too (in brackets at the end), and a JSON body in no known shape is shown as it is,
// so the real reason always reaches the error log.

const TEXT_LIMIT = 500;
const MESSAGE_LIMIT = 2000;

export interface ParsedBody {
  /** The parsed JSON, or undefined for an empty or non-JSON body. */
  json?: unknown;
  /** The raw text, for bodies that are not JSON. */
  text: string;
}

export function parseBody(text: string): ParsedBody {
  const trimmed = text.trim();
  if (trimmed === '') return { text };
  const first = trimmed[0];
  if (first === '{' || first === '[' || first === '"') {
    try {
      return { json: JSON.parse(trimmed) as unknown, text };
    } catch {
      // A body that starts like JSON but is not: report it as text.
    }
  }
  return { text };
}

/** The error text of a response body, or undefined when the body says nothing. */
export function readErrorText(body: ParsedBody): string | undefined {
  if (body.json !== undefined) {
    const parts = messagesOf(body.json);
    const type = problemType(body.json);
    if (parts.length > 0) return clip(joinSentences(dedupe(parts)), MESSAGE_LIMIT) + (type ? ` [${type}]` : '');
    if (type) return type;
    return isEmptyJson(body.json) ? undefined : clip(JSON.stringify(body.json), TEXT_LIMIT);
  }
  const text = body.text.replace(/\s+/g, ' ').trim();
  return text === '' ? undefined : clip(text, TEXT_LIMIT);
}

type JsonRecord = Record<string, unknown>;

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function messagesOf(json: unknown): string[] {
  const direct = nonEmptyString(json);
  if (direct) return [direct];
  if (Array.isArray(json)) return json.flatMap((item) => messagesOf(item));
  if (!isRecord(json)) return [];

  const parts: string[] = [];
  // detail is the specific sentence of problem+json; title is the generic heading, used only alone.
  const head = nonEmptyString(json.message) ?? nonEmptyString(json.detail) ?? nonEmptyString(json.title);
  // An item of a list of errors may name the field it is about ({"message", "path"}).
  const path = nonEmptyString(json.path) ?? nonEmptyString(json.field);
  if (head) parts.push(path && !head.includes(path) && !path.startsWith('{') ? `${path}: ${head}` : head);

  const error = json.error;
  if (isRecord(error) || Array.isArray(error)) {
    parts.push(...messagesOf(error));
  } else {
    const code = nonEmptyString(error);
    if (code) {
      const description = nonEmptyString(json.error_description);
      parts.push(description ? `${code}: ${description}` : code);
    }
  }

  parts.push(...fieldMessages(json.modelState));
  parts.push(...fieldMessages(json.validationErrors));
  parts.push(...listMessages(json.errors));
  return parts;
}

/** {"path": ["msg", ...]} or {"path": "msg"} as "path: msg; msg". */
function fieldMessages(value: unknown): string[] {
  if (!isRecord(value)) return [];
  const out: string[] = [];
  for (const [path, messages] of Object.entries(value)) {
    const texts = (Array.isArray(messages) ? messages : [messages]).flatMap((m) => messagesOf(m));
    if (texts.length === 0) continue;
    out.push(path === '' ? texts.join('; ') : `${path}: ${texts.join('; ')}`);
  }
  return out;
}

/** ["msg", ...] or [{"message": ...}, ...]; an object form is read like modelState. */
function listMessages(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => messagesOf(item));
  if (isRecord(value)) return fieldMessages(value);
  return [];
}

/** The problem+json `type` (a URN or URL), when the body has one that says more than 'about:blank'. */
function problemType(json: unknown): string | undefined {
  if (!isRecord(json)) return undefined;
  const type = nonEmptyString(json.type);
  return type && type !== 'about:blank' && /^(urn:|https?:\/\/)/i.test(type) ? type : undefined;
}

function isEmptyJson(json: unknown): boolean {
  if (json === null || json === '') return true;
  if (Array.isArray(json)) return json.length === 0;
  return isRecord(json) && Object.keys(json).length === 0;
}

function dedupe(parts: string[]): string[] {
  return [...new Set(parts)];
}

/** Joined so each part reads as its own sentence, without doubling the server's punctuation. */
function joinSentences(parts: string[]): string {
  return parts.reduce((text, part) => (text === '' ? part : /[.!?:;]$/.test(text) ? `${text} ${part}` : `${text}. ${part}`), '');
}

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}…`;
}
