// Raw sink throughput over loopback: ~9 kB messages into the VANS outbox folder (each flushed to disk, file and
// folder) and POSTed to the test FHIR receiver (keep-alive, an Acknowledgement back for each), one at a time and with
// a few in flight. The receiver runs in this process, so the REST figures include its work too.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RestSink, VansFolderSink, type OutgoingMessage, type Sink } from '../lib/delivery';
import { startFhirReceiver } from '../test/support/fhir-receiver';

export interface DeliveryFigures {
  messages: number;
  bytesPerMessage: number;
  /** Messages per second, one delivery at a time and with `inFlight` at once. */
  folder: { sequential: number; concurrent: number };
  rest: { sequential: number; concurrent: number };
  inFlight: number;
}

/** A HospitalNotification-sized Bundle (~9 kB) with its own MessageHeader.id. */
function bundle(): OutgoingMessage {
  const id = randomUUID();
  const narrative = 'Patienten er indlagt på Hjerteafdelingen. '.repeat(200);
  const body = JSON.stringify({
    resourceType: 'Bundle',
    id: randomUUID(),
    type: 'message',
    entry: [
      { fullUrl: `urn:uuid:${id}`, resource: { resourceType: 'MessageHeader', id, eventCoding: { code: 'hospital-notification-message' } } },
      { resource: { resourceType: 'Encounter', id: randomUUID(), text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${narrative}</div>` } } },
    ],
  });
  return { messageHeaderId: id, contentType: 'application/fhir+json', body };
}

async function rate(sink: Sink, messages: OutgoingMessage[], inFlight: number): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < messages.length) {
        const receipt = await sink.deliver(messages[next++]);
        if (receipt.outcome !== 'delivered') throw new Error(`delivery failed: ${receipt.message}`);
      }
    }),
  );
  return (messages.length * 1000) / (performance.now() - start);
}

export async function benchDelivery(count = 10_000, inFlight = 4): Promise<DeliveryFigures> {
  const messages = Array.from({ length: count }, bundle);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-bench-vans-'));
  const receiver = await startFhirReceiver();
  const rest = new RestSink({ url: receiver.base, maxSockets: inFlight });
  try {
    const folder = new VansFolderSink({ dir });
    const folderFigures = { sequential: await rate(folder, messages, 1), concurrent: await rate(folder, messages, inFlight) };
    await rate(rest, messages.slice(0, 500), inFlight); // warm-up: connections, JIT
    receiver.received.length = 0;
    const restSequential = await rate(rest, messages, 1);
    receiver.received.length = 0;
    const restConcurrent = await rate(rest, messages, inFlight);
    return {
      messages: count,
      bytesPerMessage: Math.round(messages.reduce((sum, m) => sum + Buffer.byteLength(m.body), 0) / count),
      folder: folderFigures,
      rest: { sequential: restSequential, concurrent: restConcurrent },
      inFlight,
    };
  } finally {
    await rest.close();
    await receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
