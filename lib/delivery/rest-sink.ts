// Delivers a MedCom FHIR message (the Bundle itself, no VANS envelope) to a receiver's FHIR REST endpoint.
//
// Where it POSTs: MedCom's governance names only the VANS network as transport; it builds on the HL7 FHIR messaging
// framework, whose RESTful form is `POST [base]/$process-message` with the message Bundle as the body (FHIR R4
// messaging.html §"RESTful", OperationDefinition MessageHeader-process-message). So by default `url` is a FHIR base
// and the sink POSTs to `<base>/$process-message`; a receiver or gateway that publishes its own message URL is
// configured with `target: 'url'` and gets the POST there unchanged. The message is asynchronous in MedCom's sense:
// a 2xx means the receiver has it; a response Bundle in the body (a MedCom Acknowledgement, if the receiver answers at
// once) is handed to the caller, and acknowledgements that come later arrive some other way.
//
// HTTP status → receipt: 2xx delivered; 401 transient `auth` (after one token refresh for OAuth 2.0): the credentials
// were refused, which an operator or a rotated secret fixes without touching the message, so the message waits
// rather than being given up; 408, 429 and 5xx transient; any other status (3xx, 4xx) permanent.
// The HTTP plumbing and its choice of node:https over fetch are in ./http.ts; OAuth 2.0 in ./oauth.ts.

import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { exchange, safeUrl, type HttpAnswer } from './http';
import { TokenSource, type ClientCredentials } from './oauth';
import { TransportError, type DeliveryReceipt, type OutgoingMessage, type Sink, type SinkResponse } from './sink';

export type RestAuth =
  | { type: 'none' }
  | { type: 'basic'; username: string; password: string }
  | { type: 'bearer'; token: string }
  | ({ type: 'oauth2' } & ClientCredentials);

/** The shape Node-RED's tls-config node fills in (`addTLSOptions`), passed to node:tls as is. */
export interface TlsOptions {
  /** Trusted CA certificates (PEM) in place of Node's built-in list. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Client certificate and key (PEM) for mutual TLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
  /** Default true; false accepts any server certificate, for test set-ups only. */
  rejectUnauthorized?: boolean;
}

export interface RestSinkOptions {
  url: string;
  /** `process-message` (default): POST to `<url>/$process-message`; `url`: POST to `url` exactly as given. */
  target?: 'process-message' | 'url';
  auth?: RestAuth;
  /** TLS options for the receiver and the OAuth 2.0 token endpoint alike. */
  tls?: TlsOptions;
  /** Time to set up a connection, TCP and TLS (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * Time for one HTTP exchange, from the request (waiting for a free connection included) to the last byte of the
   * answer (default 60 s). A delivery may make up to four: token, POST, and after a 401 a new token and a second POST.
   */
  timeoutMs?: number;
  /** Connections kept open to the receiver (default 8): the most deliveries in flight at once. */
  maxSockets?: number;
  /** The clock for token expiry and Retry-After dates (ms since the epoch); tests pass their own. */
  now?: () => number;
}

export class RestSink implements Sink {
  private readonly endpoint: URL;
  private readonly agent: http.Agent;
  /** Every pool this sink opened, for close(). */
  private readonly agents: http.Agent[];
  private readonly auth: RestAuth;
  private readonly tokens?: TokenSource;
  private readonly timeouts: { connectTimeoutMs: number; timeoutMs: number };
  private readonly now: () => number;

  constructor(options: RestSinkOptions) {
    this.endpoint = endpointUrl(options.url, options.target ?? 'process-message');
    const secure = this.endpoint.protocol === 'https:';
    const pool = { keepAlive: true, maxSockets: options.maxSockets ?? 8 };
    const secureContext = secureContextOf(options.tls);
    const httpsAgent = (): https.Agent => new https.Agent({ ...pool, secureContext, rejectUnauthorized: options.tls?.rejectUnauthorized ?? true });
    this.agent = secure ? httpsAgent() : new http.Agent(pool);
    this.auth = options.auth ?? { type: 'none' };
    this.timeouts = { connectTimeoutMs: options.connectTimeoutMs ?? 10_000, timeoutMs: options.timeoutMs ?? 60_000 };
    this.now = options.now ?? Date.now;
    this.agents = [this.agent];
    if (this.auth.type === 'oauth2') {
      // The token endpoint may use another scheme than the receiver; then it gets its own pool, same TLS options.
      const secureToken = new URL(this.auth.tokenUrl).protocol === 'https:';
      const tokenAgent = secureToken === secure ? this.agent : secureToken ? httpsAgent() : new http.Agent(pool);
      if (tokenAgent !== this.agent) this.agents.push(tokenAgent);
      this.tokens = new TokenSource(this.auth, tokenAgent, this.timeouts, this.now);
    }
  }

  async deliver(message: OutgoingMessage): Promise<DeliveryReceipt> {
    try {
      let token = await this.tokens?.token();
      let answer = await this.post(message, token);
      if (answer.status === 401 && this.tokens && token) {
        this.tokens.refused(token);
        token = await this.tokens.token();
        answer = await this.post(message, token);
      }
      return this.receipt(answer);
    } catch (error) {
      if (error instanceof TransportError) return { outcome: 'transient', reason: error.reason, message: error.message };
      // Node refuses a request it cannot send (a header with a line break, say): the configuration is at fault.
      return { outcome: 'transient', reason: 'network', message: `cannot send to ${safeUrl(this.endpoint)}: ${(error as Error).message}` };
    }
  }

  async close(): Promise<void> {
    for (const agent of this.agents) agent.destroy();
  }

  private post(message: OutgoingMessage, token: string | undefined): Promise<HttpAnswer> {
    const mediaType = message.contentType.split(';')[0].trim();
    const headers: Record<string, string> = { 'content-type': message.contentType, accept: mediaType };
    const authorization = this.authorization(token);
    if (authorization) headers.authorization = authorization;
    return exchange(this.agent, this.endpoint, { method: 'POST', headers, body: message.body, ...this.timeouts });
  }

  private authorization(token: string | undefined): string | undefined {
    switch (this.auth.type) {
      case 'none':
        return undefined;
      case 'basic':
        return `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64')}`;
      case 'bearer':
        return `Bearer ${this.auth.token}`;
      case 'oauth2':
        return `Bearer ${token}`;
    }
  }

  private receipt(answer: HttpAnswer): DeliveryReceipt {
    const { status } = answer;
    const response = responseOf(answer);
    if (status >= 200 && status < 300) return { outcome: 'delivered', status, ...(response && { response }) };
    const where = safeUrl(this.endpoint);
    const retryAfterMs = retryAfter(answer.headers['retry-after'], this.now());
    const failure = { status, ...(retryAfterMs !== undefined && { retryAfterMs }), ...(response && { response }) };
    if (status === 401) return { outcome: 'transient', reason: 'auth', message: `${where} refused the credentials (HTTP 401)`, ...failure };
    const transient = status === 408 || status === 429 || status >= 500;
    return { outcome: transient ? 'transient' : 'permanent', reason: 'http', message: `${where} answered HTTP ${status}`, ...failure };
  }
}

/**
 * Certificates and keys are read once, here, rather than on every new connection; a wrong passphrase or a broken PEM
 * is a configuration error the sink refuses at once (OpenSSL's text names no passphrase).
 */
function secureContextOf(options: TlsOptions | undefined): tls.SecureContext {
  try {
    return tls.createSecureContext({ ca: options?.ca, cert: options?.cert, key: options?.key, passphrase: options?.passphrase });
  } catch (error) {
    throw new Error(`the TLS options cannot be used: ${(error as Error).message}`, { cause: error });
  }
}

function endpointUrl(url: string, target: 'process-message' | 'url'): URL {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`the FHIR endpoint must be an http(s) URL, not ${parsed.protocol}`);
  if (target === 'process-message') parsed.pathname = `${parsed.pathname.replace(/\/+$/, '')}/$process-message`;
  return parsed;
}

function responseOf(answer: HttpAnswer): SinkResponse | undefined {
  if (!answer.body.length) return undefined;
  return { contentType: answer.headers['content-type'] ?? 'application/octet-stream', body: answer.body.toString('utf8') };
}

/** Retry-After (RFC 9110 §10.2.3): seconds, or an HTTP date. */
function retryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
