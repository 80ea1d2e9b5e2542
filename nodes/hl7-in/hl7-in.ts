// The `hl7 in` node: the messages an EPR sends to an `hl7-listener` port enter the flow here, one per msg, with
// msg.hl7 saying which connection to answer. In the default ACK mode ("after the flow") an `hl7 response` node sends
// the ACK once the flow has done its part (the advis is durable); a message nobody answers within the response time
// gets an AE so the EPR sends it again. Frames that do not read as HL7 never get here: the listener refuses them.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { AckMode } from '../../lib/hl7';
import type { Hl7ListenerNode, Hl7MessageRef, ListenerConsumer, ListenerStatus } from '../hl7-listener/hl7-listener-node';

interface Hl7InDef extends NodeDef {
  listener: string;
  ackMode: AckMode;
  responseTimeout: string | number;
}

export = function (RED: NodeAPI): void {
  function Hl7In(this: Node, def: Hl7InDef): void {
    RED.nodes.createNode(this, def);
    const listener = RED.nodes.getNode(def.listener) as Hl7ListenerNode | null;
    if (!listener) {
      this.status({ fill: 'red', shape: 'ring', text: 'hl7-in.status.no-listener' });
      this.error(RED._('hl7-in.error.no-listener'));
      return;
    }
    let latest: ListenerStatus | null = null;
    let statusTimer: NodeJS.Timeout | undefined;
    const showStatus = (): void => {
      statusTimer = undefined;
      if (!latest) return;
      const { address, connections, received, rejected, exposed } = latest;
      this.status({
        fill: rejected > 0 || exposed ? 'yellow' : 'green',
        shape: connections > 0 ? 'dot' : 'ring',
        text: RED._(exposed ? 'hl7-in.status.exposed' : 'hl7-in.status.listening', { address, connections, received, rejected }),
      });
    };
    const consumer: ListenerConsumer = {
      ackMode: ['flow', 'receipt', 'none'].includes(def.ackMode) ? def.ackMode : 'flow',
      responseTimeoutMs: Math.max(1, Number(def.responseTimeout) || 30) * 1000,
      onMessage: ({ ref, message, remoteAddress }) => {
        const hl7: Hl7MessageRef = {
          ...ref,
          listener: listener.id,
          controlId: message.get('MSH', 10),
          messageType: message.raw('MSH', 9),
          remoteAddress,
        };
        this.send({ payload: message.text, hl7 } as never);
      },
      onStats: (stats) => {
        // At most a few updates a second: each one goes to every open editor.
        latest = stats;
        statusTimer ??= setTimeout(showStatus, 250);
      },
      onError: (error) => {
        this.status({ fill: 'red', shape: 'ring', text: 'hl7-in.status.error' });
        this.error(error.message);
      },
    };
    listener.attach(consumer);
    this.on('close', (done: () => void) => {
      clearTimeout(statusTimer);
      void listener.detach(consumer).then(() => done());
    });
  }
  RED.nodes.registerType('hl7 in', Hl7In);
};
