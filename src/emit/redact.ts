// Keeps credentials out of every text the client hands back: messages, events, error bodies.
// A server may echo what it was sent (a proxy's error page quoting the Authorization header, an
// OAuth error repeating the client id), so the client scrubs rather than trusting servers not to.
// Two layers: the values this run knows to be secret (key, secret, every token it was issued), and the
// shapes credentials travel in (an Authorization header, a token or secret field), whatever their value,
// so a token the run never saw (another client's, one issued before a restart) is masked too.

const MASK = '[redacted]';

/** Values shorter than this are not scrubbed: masking "1" everywhere would garble every message. */
const MIN_SECRET_LENGTH = 4;

/**
 * Credential shapes: `Bearer x`, `Basic x` (an Authorization header's value), and a token, secret or password
 * field of JSON, a form or a query string. The value itself is replaced; the words around it are kept.
 */
const SHAPES: Array<[RegExp, string]> = [
  // Tokens are long; a Basic value is base64 with a digit, '+', '/' or '=' in it, so "Basic Skills" stays readable.
  [/\b(Bearer)(\s+)[A-Za-z0-9\-._~+/]{16,}=*/gi, `$1$2${MASK}`],
  [/\b(Basic)(\s+)(?=[A-Za-z0-9+/]*[0-9+/=])[A-Za-z0-9+/]{12,}={0,2}/gi, `$1$2${MASK}`],
  [
    /((?:access_token|refresh_token|id_token|client_secret|clientSecret|password|secret|key_secret)["']?\s*[:=]\s*["']?)([^"'&\s,;}]{4,})/gi,
    `$1${MASK}`,
  ],
];

export class Redactor {
  private readonly secrets = new Set<string>();
  /** The secrets longest first, so a secret that contains another is masked whole; rebuilt after add(). */
  private ordered: string[] = [];

  constructor(values: Iterable<string> = []) {
    for (const value of values) this.add(value);
  }

  /** Remember a value (and its common encodings) as secret from now on. */
  add(value: string): void {
    if (value.length < MIN_SECRET_LENGTH) return;
    const before = this.secrets.size;
    this.secrets.add(value);
    this.secrets.add(encodeURIComponent(value));
    if (this.secrets.size !== before) this.ordered = [...this.secrets].sort((a, b) => b.length - a.length);
  }

  text(value: string): string {
    let out = value;
    for (const secret of this.ordered) {
      if (out.includes(secret)) out = out.split(secret).join(MASK);
    }
    for (const [shape, replacement] of SHAPES) out = out.replace(shape, replacement);
    return out;
  }

  /** A deep copy of a parsed JSON value with every string scrubbed. */
  json(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((item) => this.json(item));
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[this.text(key)] = isCredentialField(key) && typeof item === 'string' ? MASK : this.json(item);
      return out;
    }
    return value;
  }
}

function isCredentialField(name: string): boolean {
  return /^(access_token|refresh_token|id_token|client_secret|clientsecret|password|secret|authorization)$/i.test(name);
}
