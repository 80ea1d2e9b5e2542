// OAuth 2.0 client credentials (RFC 6749 §4.4): one access token shared by every delivery, fetched when first needed,
// kept until shortly before it expires, fetched once for many waiting deliveries, and dropped when the receiver
// answers 401 so that the next attempt fetches a new one.
//
// Hand-written rather than taken from a client library (openid-client, simple-oauth2): the grant is one form POST and
// a JSON answer, and doing it here lets the token request use the same TLS options, timeouts and keep-alive pool as
// the deliveries, with nothing added to the dependencies.

import type * as http from 'node:http';
import { exchange, safeUrl } from './http';
import { TransportError } from './sink';

export interface ClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes, sent when given. */
  scope?: string;
  /**
   * How the client authenticates to the token endpoint: HTTP Basic (`basic`, which RFC 6749 §2.3.1 obliges every
   * server to support; the default) or client_id and client_secret in the form body (`body`).
   */
  clientAuth?: 'basic' | 'body';
}

interface Cached {
  token: string;
  /** When to stop using it (ms since the epoch): before the real expiry, so a token never runs out in flight. */
  renewAt: number;
}

/** How long before expiry a token is renewed: 30 s, or half the lifetime of a token that lives less than a minute. */
function renewalMargin(lifetimeMs: number): number {
  return Math.min(30_000, lifetimeMs / 2);
}

export class TokenSource {
  private cached?: Cached;
  private pending?: Promise<string>;
  private readonly url: URL;

  constructor(
    private readonly credentials: ClientCredentials,
    private readonly agent: http.Agent,
    private readonly timeouts: { connectTimeoutMs: number; timeoutMs: number },
    private readonly now: () => number,
  ) {
    this.url = new URL(credentials.tokenUrl);
  }

  /** A token that is not about to expire; throws a TransportError when none can be had. */
  token(): Promise<string> {
    if (this.cached && this.now() < this.cached.renewAt) return Promise.resolve(this.cached.token);
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** The receiver refused `token`: forget it, unless a newer one has already replaced it. */
  refused(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async fetch(): Promise<string> {
    const { clientId, clientSecret, scope, clientAuth = 'basic' } = this.credentials;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope) form.set('scope', scope);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (clientAuth === 'basic') {
      // RFC 6749 §2.3.1: each part is form-encoded before the Basic encoding.
      const user = encodeURIComponent(clientId).replace(/%20/g, '+');
      const pass = encodeURIComponent(clientSecret).replace(/%20/g, '+');
      headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    } else {
      form.set('client_id', clientId);
      form.set('client_secret', clientSecret);
    }
    const requested = this.now();
    const answer = await exchange(this.agent, this.url, { method: 'POST', headers, body: form.toString(), ...this.timeouts });
    const where = `token endpoint ${safeUrl(this.url)}`;
    if (answer.status < 200 || answer.status >= 300) {
      // The OAuth error code (invalid_client, invalid_scope…) is a fixed keyword; the free-text description is left
      // out because servers sometimes echo what they were sent.
      const code = /^[a-z_]+$/.exec(readJson(answer.body)?.error as string)?.[0];
      const reason = answer.status >= 400 && answer.status < 500 && answer.status !== 408 && answer.status !== 429 ? 'auth' : 'http';
      throw new TransportError(reason, `${where} answered HTTP ${answer.status}${code ? ` (${code})` : ''}`);
    }
    const json = readJson(answer.body);
    const token = json?.access_token;
    const type = json?.token_type;
    if (typeof token !== 'string' || !token || (typeof type === 'string' && type.toLowerCase() !== 'bearer')) {
      throw new TransportError('auth', `${where} answered without a bearer access_token`);
    }
    const lifetimeMs = Number(json?.expires_in) * 1000;
    // Without expires_in the token is kept until the receiver refuses it.
    const renewAt = Number.isFinite(lifetimeMs) && lifetimeMs > 0 ? requested + lifetimeMs - renewalMargin(lifetimeMs) : Infinity;
    this.cached = { token, renewAt };
    return token;
  }
}

function readJson(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
