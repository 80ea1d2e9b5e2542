// One HTTP(S) exchange with a connect timeout, a total timeout and a size cap, on a shared keep-alive agent; failures
// come back as TransportErrors that say why (network, tls, timeout) in words safe to log.
//
// Built on node:http/https rather than the global fetch: fetch needs an undici Agent (the `undici` package as a
// dependency, which must match the undici inside Node) to take a CA, a client certificate and a keep-alive pool,
// while https.Agent takes exactly the {ca, cert, key, passphrase, rejectUnauthorized} that Node-RED's tls-config node
// hands out, pools keep-alive sockets, and ships with Node. Neither fetch nor node:http has a connect timeout of its
// own (undici's is for TCP only), so the one here covers TCP and the TLS handshake.

import * as http from 'node:http';
import * as https from 'node:https';
import { TransportError } from './sink';

export interface HttpExchange {
  method: 'POST';
  headers: Record<string, string>;
  body: string | Buffer;
  connectTimeoutMs: number;
  timeoutMs: number;
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Acknowledgements and OperationOutcomes are small; a larger answer is a misbehaving peer, not something to buffer. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** The URL as it may appear in a log line: no user name, password or query (which may carry an API key). */
export function safeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

export function exchange(agent: http.Agent, url: URL, request: HttpExchange): Promise<HttpAnswer> {
  const where = safeUrl(url);
  return new Promise((resolve, reject) => {
    const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;
    const send = url.protocol === 'https:' ? https.request : http.request;
    const req = send(url, {
      method: request.method,
      agent,
      headers: { ...request.headers, 'content-length': String(body.length) },
    });
    // The reason a request was cut off, for whichever of the request and the response reports the end.
    let failure: TransportError | undefined;
    const fail = (error: TransportError): void => {
      failure = error;
      req.destroy(error);
    };
    const timer = setTimeout(() => fail(new TransportError('timeout', `no complete answer from ${where} within ${request.timeoutMs} ms`)), request.timeoutMs);
    let connectTimer: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(timer);
      clearTimeout(connectTimer);
    };

    req.on('socket', (socket) => {
      if (req.reusedSocket) return; // a pooled keep-alive connection is already up
      connectTimer = setTimeout(
        () => fail(new TransportError('timeout', `no connection to ${where} within ${request.connectTimeoutMs} ms`)),
        request.connectTimeoutMs,
      );
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) fail(new TransportError('network', `answer from ${where} exceeds ${MAX_ANSWER_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        done();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
      res.on('error', (error) => {
        failure ??= describe(error, where); // reported by 'close' below
      });
      res.on('close', () => {
        done();
        if (!res.complete) reject(failure ?? new TransportError('network', `connection to ${where} closed before the answer was complete`));
      });
    });
    req.on('error', (error) => {
      done();
      reject(failure ?? describe(error, where));
    });
    req.end(body);
  });
}

/** OpenSSL's and Node's codes for a failed handshake or certificate check. */
const TLS_CODE = /^ERR_(SSL|TLS)_|CERT|SIGNATURE|^ERR_OSSL_/;

function describe(error: Error, where: string): TransportError {
  if (error instanceof TransportError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const reason = TLS_CODE.test(code) ? 'tls' : 'network';
  const text = error.message.replace(/\s+/g, ' ').trim(); // OpenSSL's texts end in a line break
  return new TransportError(reason, `${reason === 'tls' ? 'TLS' : 'connection'} failure with ${where}: ${text}${code && !text.includes(code) ? ` (${code})` : ''}`);
}
