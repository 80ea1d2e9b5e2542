// MLLP framing (HL7 v2 Minimal Lower Layer Protocol): each message travels as <VT> bytes <FS><CR>.
//
// Hand-written (docs/architecture.md, docs/mllp.md): the Node.js listeners measured either delivered a message
// twice (node-hl7-server 2.5), lost a valid frame that shared a read with a bad one (@medplum/hl7), or had no frame
// size limit at all. The framer below works on bytes, so a frame split anywhere, even inside a multi-byte UTF-8
// character, is joined before anything is decoded; several frames in one read come out one by one, in order.
//
// Tolerated, because real senders do it: a missing CR after FS, CR/LF between frames. Refused, with an event the
// listener turns into a negative ACK or a log line: frames over the size limit (read to their end and dropped, so the
// connection stays usable), bytes outside any frame, and a frame cut short by the next <VT>.

export const MLLP_START = 0x0b;
export const MLLP_END = 0x1c;
const CR = 0x0d;
const LF = 0x0a;

/** How much of an oversized frame is kept: enough for its MSH segment, so the refusal can be addressed. */
const OVERSIZED_HEAD_BYTES = 4096;

export type MllpEvent =
  /** One complete frame's content, without the framing bytes. */
  | { kind: 'frame'; bytes: Buffer }
  /** A frame larger than the limit, read to its end and dropped; `head` holds its first bytes. */
  | { kind: 'oversized'; head: Buffer; size: number }
  /** Bytes that were not inside any frame (line ends between frames are not counted). */
  | { kind: 'skipped'; count: number }
  /** A frame that was abandoned because another <VT> began before its <FS>. */
  | { kind: 'truncated'; size: number };

/** Wraps one message in MLLP framing bytes. */
export function mllpFrame(message: string | Uint8Array, encoding: BufferEncoding = 'utf8'): Buffer {
  const body = typeof message === 'string' ? Buffer.from(message, encoding) : message;
  const framed = Buffer.allocUnsafe(body.length + 3);
  framed[0] = MLLP_START;
  framed.set(body, 1);
  framed[body.length + 1] = MLLP_END;
  framed[body.length + 2] = CR;
  return framed;
}

/** Splits the byte stream of one connection into frames. One framer per connection. */
export class MllpFramer {
  private inside = false;
  private parts: Buffer[] = [];
  private size = 0;
  /** Set once the current frame has passed the limit: its bytes are counted, not kept. */
  private oversized = false;

  constructor(readonly maxFrameBytes: number) {}

  /** Bytes of a frame begun but not finished (what is lost if the connection ends now). */
  get pendingBytes(): number {
    return this.inside ? this.size : 0;
  }

  /** Feeds one read; returns what it completed, in order. */
  push(chunk: Buffer): MllpEvent[] {
    const events: MllpEvent[] = [];
    let skipped = 0;
    let at = 0;
    while (at < chunk.length) {
      if (!this.inside) {
        const start = chunk.indexOf(MLLP_START, at);
        const until = start < 0 ? chunk.length : start;
        for (let i = at; i < until; i++) if (chunk[i] !== CR && chunk[i] !== LF) skipped++;
        if (start < 0) break;
        this.begin();
        at = start + 1;
        continue;
      }
      const end = chunk.indexOf(MLLP_END, at);
      const restart = chunk.indexOf(MLLP_START, at);
      if (restart >= 0 && (end < 0 || restart < end)) {
        this.append(chunk.subarray(at, restart));
        events.push({ kind: 'truncated', size: this.size });
        this.begin();
        at = restart + 1;
        continue;
      }
      if (end < 0) {
        this.append(chunk.subarray(at));
        break;
      }
      this.append(chunk.subarray(at, end));
      events.push(this.finish());
      at = end + 1;
      if (chunk[at] === CR) at++;
    }
    if (skipped > 0) events.push({ kind: 'skipped', count: skipped });
    return events;
  }

  private begin(): void {
    this.inside = true;
    this.parts = [];
    this.size = 0;
    this.oversized = false;
  }

  private append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.size += bytes.length;
    if (this.oversized) return;
    if (this.size > this.maxFrameBytes) {
      // Keep only the head, copied, so the rest of the large reads it came in can be freed.
      const head = Buffer.concat([...this.parts, bytes]).subarray(0, OVERSIZED_HEAD_BYTES);
      this.parts = [Buffer.from(head)];
      this.oversized = true;
      return;
    }
    this.parts.push(bytes);
  }

  private finish(): MllpEvent {
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.oversized ? undefined : this.size);
    const event: MllpEvent = this.oversized ? { kind: 'oversized', head: bytes, size: this.size } : { kind: 'frame', bytes };
    this.inside = false;
    this.parts = [];
    this.size = 0;
    this.oversized = false;
    return event;
  }
}
