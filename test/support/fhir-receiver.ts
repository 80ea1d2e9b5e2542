// A municipality's FHIR endpoint on loopback, for delivery tests and benchmarks: takes MedCom messages over HTTP or
// HTTPS (optionally demanding a client certificate), checks credentials (Basic, a fixed bearer token, or tokens from
// its own OAuth 2.0 client-credentials endpoint at /token), records everything, and answers each request as the test
// asks: a MedCom-style Acknowledgement (ok, transient-error, fatal-error), 202 without a body, an HTTP error, or no
// answer at all. The Acknowledgement is the minimal shape a sink's caller reads (MessageHeader.response identifier and
// code); the real builder belongs to lib/medcom.
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

export type ReceiverAnswer =
  | 'ok'
  | 'transient-error'
  | 'fatal-error'
  | 'accepted'
  | 'http-400'
  | 'http-401'
  | 'http-429'
  | 'http-500'
  | 'http-503'
  | 'hang';

export type ReceiverAuth =
  | { type: 'basic'; username: string; password: string }
  | { type: 'bearer'; token: string }
  /** Tokens from /token, `expiresIn` seconds announced (default 3600); valid until `expireTokens()`. */
  | { type: 'oauth2'; clientId: string; clientSecret: string; expiresIn?: number };

export interface FhirReceiverOptions {
  /** Serve HTTPS; `ca` + `requestCert` demand a client certificate signed by that CA. */
  tls?: { cert: string; key: string; ca?: string; requestCert?: boolean };
  auth?: ReceiverAuth;
  /** Checks a received message; any problem returned makes the answer a fatal-error Acknowledgement. */
  validate?: (message: ReceivedMessage) => string[];
  /** Listen on this port (default: any free one): a receiver started again where one was before, as after an outage. */
  port?: number;
  /** Waited for before each answer: a slow receiver, answering when the test says. */
  beforeAnswer?: (message: ReceivedMessage) => Promise<void>;
}

export interface ReceivedMessage {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** MessageHeader.id read from the JSON or XML Bundle, when there is one. */
  messageHeaderId?: string;
  /** The client's port: the same port for several requests means a kept-alive connection. */
  remotePort: number;
  /** Common name of the client certificate, with mutual TLS. */
  clientCertificate?: string;
  problems: string[];
  answer: ReceiverAnswer | 'unauthorized';
}

export interface TokenRequest {
  clientAuth: 'basic' | 'body';
  scope?: string;
  granted: boolean;
}

export interface FhirReceiver {
  /** The FHIR base URL, `<origin>/fhir`. */
  base: string;
  tokenUrl: string;
  received: ReceivedMessage[];
  tokenRequests: TokenRequest[];
  /** Tokens the receiver has issued and not revoked. */
  validTokens: Set<string>;
  /** Answers for the next requests, in order; after them every request gets `ok`. */
  answerNext(...answers: ReceiverAnswer[]): void;
  /** Revokes every token issued so far, as an expiry or a key rotation would. */
  expireTokens(): void;
  close(): Promise<void>;
}

function messageHeaderIdOf(body: string, contentType: string): string | undefined {
  if (contentType.includes('xml')) return /<MessageHeader>\s*<id value="([^"]+)"/.exec(body)?.[1];
  try {
    const bundle = JSON.parse(body) as { entry?: { resource?: { resourceType?: string; id?: string } }[] };
    const header = bundle.entry?.[0]?.resource;
    return header?.resourceType === 'MessageHeader' ? header.id : undefined;
  } catch {
    return undefined;
  }
}

/** A minimal MedCom Acknowledgement: a message Bundle whose MessageHeader.response names the message it answers. */
export function acknowledgement(messageHeaderId: string, code: 'ok' | 'transient-error' | 'fatal-error', xml: boolean): string {
  const bundleId = randomUUID();
  const headerId = randomUUID();
  const outcomeId = randomUUID();
  const event = 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes';
  if (xml) {
    return `<Bundle xmlns="http://hl7.org/fhir"><id value="${bundleId}"/><type value="message"/><entry><fullUrl value="urn:uuid:${headerId}"/>` +
      `<resource><MessageHeader><id value="${headerId}"/><eventCoding><system value="${event}"/><code value="acknowledgement-message"/></eventCoding>` +
      `<source><endpoint value="https://sor2.sum.dsdn.dk/#id=953741000016009"/></source>` +
      `<response><identifier value="${messageHeaderId}"/><code value="${code}"/></response></MessageHeader></resource></entry></Bundle>`;
  }
  return JSON.stringify({
    resourceType: 'Bundle',
    id: bundleId,
    type: 'message',
    entry: [{
      fullUrl: `urn:uuid:${headerId}`,
      resource: {
        resourceType: 'MessageHeader',
        id: headerId,
        eventCoding: { system: event, code: 'acknowledgement-message' },
        source: { endpoint: 'https://sor2.sum.dsdn.dk/#id=953741000016009' },
        response: { identifier: messageHeaderId, code, ...(code !== 'ok' && { details: { reference: `OperationOutcome/${outcomeId}` } }) },
      },
    },
    // A negative acknowledgement says why, as MedCom requires (medcom-acknowledgement-1).
    ...(code === 'ok' ? [] : [{
      fullUrl: `urn:uuid:${outcomeId}`,
      resource: { resourceType: 'OperationOutcome', id: outcomeId, issue: [{ severity: 'error', code: code === 'fatal-error' ? 'value' : 'transient', diagnostics: `the receiver answers ${code}` }] },
    }])],
  });
}

const OPERATION_OUTCOME = JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'processing' }] });

export async function startFhirReceiver(options: FhirReceiverOptions = {}): Promise<FhirReceiver> {
  const received: ReceivedMessage[] = [];
  const tokenRequests: TokenRequest[] = [];
  const validTokens = new Set<string>();
  const queued: ReceiverAnswer[] = [];
  let issued = 0;
  const auth = options.auth;

  function authorised(header: string | undefined): boolean {
    if (!auth) return true;
    if (auth.type === 'basic') return header === `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    if (auth.type === 'bearer') return header === `Bearer ${auth.token}`;
    return !!header?.startsWith('Bearer ') && validTokens.has(header.slice('Bearer '.length));
  }

  function issueToken(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const form = new URLSearchParams(body);
    const basic = req.headers.authorization?.startsWith('Basic ') ? Buffer.from(req.headers.authorization.slice(6), 'base64').toString('utf8') : undefined;
    const [id, secret] = basic ? basic.split(':').map((part) => decodeURIComponent(part.replace(/\+/g, ' '))) : [form.get('client_id'), form.get('client_secret')];
    const granted = auth?.type === 'oauth2' && form.get('grant_type') === 'client_credentials' && id === auth.clientId && secret === auth.clientSecret;
    tokenRequests.push({ clientAuth: basic ? 'basic' : 'body', ...(form.get('scope') && { scope: form.get('scope') as string }), granted });
    res.setHeader('content-type', 'application/json');
    if (!granted) {
      res.writeHead(401).end(JSON.stringify({ error: 'invalid_client', error_description: `client ${id} with secret ${secret} is unknown` }));
      return;
    }
    const token = `token-${++issued}-${randomUUID()}`;
    validTokens.add(token);
    res.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: auth.type === 'oauth2' ? (auth.expiresIn ?? 3600) : 0 }));
  }

  function answer(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const contentType = req.headers['content-type'] ?? '';
    const peer = (req.socket as TLSSocket).getPeerCertificate?.();
    const message: ReceivedMessage = {
      path: req.url ?? '',
      headers: req.headers,
      body,
      messageHeaderId: messageHeaderIdOf(body, contentType),
      remotePort: req.socket.remotePort ?? 0,
      ...(peer?.subject && { clientCertificate: peer.subject.CN as string }),
      problems: [],
      answer: 'ok',
    };
    received.push(message);
    if (!authorised(req.headers.authorization)) {
      message.answer = 'unauthorized';
      res.writeHead(401, { 'www-authenticate': auth?.type === 'basic' ? 'Basic realm="fhir"' : 'Bearer' }).end();
      return;
    }
    if (options.beforeAnswer) void options.beforeAnswer(message).then(() => respond(message, req, res));
    else respond(message, req, res);
  }

  function respond(message: ReceivedMessage, req: http.IncomingMessage, res: http.ServerResponse): void {
    const xml = (req.headers['content-type'] ?? '').includes('xml');
    message.problems = options.validate?.(message) ?? [];
    message.answer = queued.shift() ?? (message.problems.length ? 'fatal-error' : 'ok');
    const id = message.messageHeaderId ?? 'unknown';
    const media = xml ? 'application/fhir+xml' : 'application/fhir+json';
    switch (message.answer) {
      case 'ok':
      case 'transient-error':
      case 'fatal-error':
        res.writeHead(200, { 'content-type': media }).end(acknowledgement(id, message.answer, xml));
        return;
      case 'accepted':
        res.writeHead(202).end();
        return;
      case 'http-401':
        res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
        return;
      case 'http-429':
      case 'http-503':
        res.writeHead(Number(message.answer.slice(5)), { 'retry-after': '120', 'content-type': 'application/fhir+json' }).end(OPERATION_OUTCOME);
        return;
      case 'http-400':
      case 'http-500':
        res.writeHead(Number(message.answer.slice(5)), { 'content-type': 'application/fhir+json' }).end(OPERATION_OUTCOME);
        return;
      case 'hang':
        return; // the connection stays open, unanswered, until the client gives up or the receiver closes
    }
  }

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'POST' && req.url === '/token' && auth?.type === 'oauth2') issueToken(req, body, res);
      else if (req.method === 'POST' && req.url?.startsWith('/fhir')) answer(req, body, res);
      else res.writeHead(404).end();
    });
  };

  const tls = options.tls;
  const server = tls
    ? https.createServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: !!tls.requestCert, rejectUnauthorized: !!tls.requestCert }, handler)
    : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const origin = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base: `${origin}/fhir`,
    tokenUrl: `${origin}/token`,
    received,
    tokenRequests,
    validTokens,
    answerNext: (...answers) => void queued.push(...answers),
    expireTokens: () => validTokens.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
