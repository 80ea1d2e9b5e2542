// Why something that came from (or is about to go to) the MedCom network could not be read or written, as a closed
// list of codes the delivery worker can branch on: log and keep the inbound file, or dead-letter the outbound one.
//
// Messages name the problem and the element, never a value: an envelope carries a whole HospitalNotification, and
// its CPR number must not reach a log.

export type MedComErrorCode =
  /** Not well-formed XML or JSON, or a document with a DOCTYPE (refused: no entity is ever expanded). */
  | 'malformed'
  /** Well-formed, but not a VANSEnvelope 1.0.4: wrong root or namespace, or a required element missing or invalid. */
  | 'not-envelope'
  /** FHIR, but not the message expected: not a Bundle, or an acknowledgement was expected and this is none. */
  | 'not-message'
  /** A MedCom message that lacks what the operation needs, e.g. no Provenance for its own MessageHeader. */
  | 'incomplete-message'
  /** A value cannot go into a VANSEnvelope as given, e.g. a GLN of the wrong length or an id that is not a UUID. */
  | 'invalid-value';

export class MedComError extends Error {
  constructor(
    readonly code: MedComErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MedComError';
  }
}
