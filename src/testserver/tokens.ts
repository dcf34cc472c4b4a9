// Bearer tokens the test server has issued, with their expiry.
import { randomBytes } from 'node:crypto';

export interface TokenAnswer {
  access_token: string;
  expires_in: number;
  token_type: 'bearer';
}

export class TokenRegistry {
  private readonly expiries = new Map<string, number>();

  /**
   * `epochExpiresIn`: expires_in is the absolute expiry in epoch seconds rather than a lifetime, as some token
   * endpoints answer.
   */
  constructor(
    private readonly lifetimeSeconds: number,
    private readonly epochExpiresIn = false,
  ) {}

  issue(): TokenAnswer {
    const token = randomBytes(16).toString('hex');
    const expiry = Date.now() + this.lifetimeSeconds * 1000;
    this.expiries.set(token, expiry);
    return { access_token: token, expires_in: this.epochExpiresIn ? Math.floor(expiry / 1000) : this.lifetimeSeconds, token_type: 'bearer' };
  }

  isValid(token: string): boolean {
    const expiry = this.expiries.get(token);
    if (expiry === undefined) return false;
    if (Date.now() >= expiry) {
      this.expiries.delete(token);
      return false;
    }
    return true;
  }

  /** Every token issued so far stops working, as after an ODS/API restart or a token purge. */
  expireAll(): void {
    this.expiries.clear();
  }
}
