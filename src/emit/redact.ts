// Keeps credentials out of every text the client hands back: messages, events, error bodies.
// A server may echo what it was sent (a proxy's error page quoting the Authorization header, an
// OAuth error repeating the client id), so the client scrubs rather than trusting servers not to.

const MASK = '[redacted]';

/** Values shorter than this are not scrubbed: masking "1" everywhere would garble every message. */
const MIN_SECRET_LENGTH = 4;

export class Redactor {
  private readonly secrets = new Set<string>();

  constructor(values: Iterable<string> = []) {
    for (const value of values) this.add(value);
  }

  /** Remember a value (and its common encodings) as secret from now on. */
  add(value: string): void {
    if (value.length < MIN_SECRET_LENGTH) return;
    this.secrets.add(value);
    this.secrets.add(encodeURIComponent(value));
  }

  text(value: string): string {
    let out = value;
    // Longest first, so a secret that contains another is masked whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) {
      if (out.includes(secret)) out = out.split(secret).join(MASK);
    }
    return out;
  }

  /** A deep copy of a parsed JSON value with every string scrubbed. */
  json(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((item) => this.json(item));
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[this.text(key)] = this.json(item);
      return out;
    }
    return value;
  }
}
