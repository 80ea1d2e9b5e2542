// What the VANS folder and SFTP drop tests hand their sinks: a small envelope-shaped message of a given size, and the
// clock their file names are stamped with.
import type { OutgoingMessage } from '../../lib/delivery';

export const AT = Date.parse('2025-03-11T07:00:02.123Z');

export function envelope(id: string, size = 2_000): OutgoingMessage {
  const data = Buffer.alloc(size, 'A').toString();
  return {
    messageHeaderId: id,
    contentType: 'application/xml',
    body: `<VANSEnvelope xmlns="urn:oio:medcom:vans-envelope:1.0.4"><EnvelopeIdentifier>${id}</EnvelopeIdentifier><Message><Data>${data}</Data></Message></VANSEnvelope>`,
  };
}
