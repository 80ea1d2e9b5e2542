// The life of a delivery config node's transport (medcom-vans, medcom-rest): opened on first use, kept while a
// medcom out node holds it, closed once the last hold is let go after the config node closes (nodes/shared/holds.ts).
import type { Transport } from '../../lib/delivery';
import type { MedcomSinkNode } from '../medcom-out/medcom-sink-node';
import { Holds } from './holds';

export function ownTransport(node: MedcomSinkNode, open: () => Transport): void {
  let transport: Transport | undefined;
  node.transport = () => (transport ??= open());
  const holds = new Holds();
  node.hold = () => holds.take();
  node.on('close', (done: () => void) => {
    void holds.released().then(async () => {
      const closing = transport;
      transport = undefined;
      await closing?.sink.close();
      done();
    });
  });
}
