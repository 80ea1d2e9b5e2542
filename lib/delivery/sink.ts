// The transport contract the outbox worker delivers through: one outgoing message in, one receipt out. Every sink (the
// VANS drop into a folder or over SFTP, the FHIR REST endpoint) answers the same way, so the worker's retry, back-off
// and dead-letter logic is written once and does not know which network carries the message.
//
// A receipt is about the transport only. A MedCom Acknowledgement that comes back in a synchronous response is
// handed over untouched in `response`: whether it says ok, transient-error or fatal-error is for the caller (lib/medcom)
// to read, because it is the receiver's application speaking, not the network.

/** One message as the outbox hands it to a sink. */
export interface OutgoingMessage {
  /** MessageHeader.id of the Bundle inside: names the VANS file (after its ordering stamp), and lets an error say which message it was. */
  messageHeaderId: string;
  /** Exactly what goes on the wire: the FHIR Bundle (REST) or the VANS envelope around it (VANS folder). */
  body: string | Buffer;
  /** `application/fhir+json`, `application/fhir+xml`, or for a VANS envelope `application/xml`. */
  contentType: string;
}

/** A body the receiver answered with: typically a MedCom Acknowledgement Bundle or a FHIR OperationOutcome. */
export interface SinkResponse {
  contentType: string;
  body: string;
}

/**
 * Why an attempt failed. `auth`: the receiver, its token endpoint or the SFTP server refused our credentials; `tls`: the
 * TLS handshake failed (certificates, CA, client certificate refused); `host-key`: the SFTP server's host key is not
 * the one configured (a changed server, or someone in between); `timeout`: no connection or no complete answer in time;
 * `network`: the connection failed or broke; `http`: the receiver answered with an error status; `io`: the file system
 * (local, or the SFTP server's) refused a write; `message`: the message itself cannot be sent as it is (say, a file
 * name the sink cannot use).
 */
export type FailureReason = 'auth' | 'tls' | 'host-key' | 'timeout' | 'network' | 'http' | 'io' | 'message';

export type DeliveryReceipt =
  | {
      /** The receiver has the message: HTTP 2xx, or the file is complete under its final name on disk. */
      outcome: 'delivered';
      status?: number;
      response?: SinkResponse;
    }
  | {
      /**
       * `transient`: something outside the message may change (network, receiver load, an expired credential or
       * certificate): try the same message again later, with back-off. `permanent`: the receiver refused this
       * message (HTTP 4xx other than 401, 408 and 429, or a redirect): sending it unchanged will never succeed.
       */
      outcome: 'transient' | 'permanent';
      reason: FailureReason;
      /** For logs and operators: never holds secrets, tokens, CPR numbers or the message body. */
      message: string;
      status?: number;
      /** The receiver's Retry-After (429, 503), in milliseconds. */
      retryAfterMs?: number;
      response?: SinkResponse;
    };

export interface Sink {
  /** Never rejects: every failure is a receipt, so the caller has one code path. */
  deliver(message: OutgoingMessage): Promise<DeliveryReceipt>;
  /** Releases connections and handles; deliveries still in flight end as transient failures. */
  close(): Promise<void>;
}

/** An attempt that failed before the receiver had the message, and why. `message` holds no secrets. */
export class TransportError extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}
