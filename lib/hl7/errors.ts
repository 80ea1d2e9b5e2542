// Why an HL7 message could not be read. Messages name the problem and where it is, never patient data, because they
// end up in logs, node status, Catch nodes and the MSA-3 text of a negative ACK.

export type Hl7ErrorCode =
  | 'empty'
  | 'binary'
  | 'no-msh'
  | 'bad-delimiters'
  | 'truncated-segment'
  | 'unsupported-charset'
  | 'missing-field'
  | 'bad-datetime';

export class Hl7Error extends Error {
  constructor(
    readonly code: Hl7ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'Hl7Error';
  }
}
