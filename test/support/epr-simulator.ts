// An EPR as a region's interface engines meet it: several MLLP connections spread over the instances, one message at
// a time per connection, and a message without AA (AE, AR, no answer, a broken connection) sent again, to the next
// instance. Each stay's messages go in order: the next only once the one before it has its AA. For the failover test
// and the cluster benchmark.
import { MllpSender, SendError } from '../../lib/hl7';

export interface Instance {
  host: string;
  port: number;
}

export interface EprStats {
  /** Messages that got their AA. */
  acknowledged: number;
  /** Sends that got no AA, by what came instead (AE, AR, timeout, connect, connection), each sent again. */
  retried: Record<string, number>;
}

export class EprSimulator {
  readonly stats: EprStats = { acknowledged: 0, retried: {} };
  private next = 0;

  /**
   * `stays`: each stay's messages in the order they must be acknowledged. `connections` connections are spread over the
   * instances round-robin.
   */
  constructor(
    private readonly instances: Instance[],
    private readonly stays: string[][],
    private readonly connections: number,
    private readonly ackTimeoutMs = 15_000,
  ) {}

  /** Resolves once every message of every stay has its AA. */
  async run(): Promise<EprStats> {
    await Promise.all(Array.from({ length: this.connections }, (_, i) => this.connection(i)));
    return this.stats;
  }

  private async connection(index: number): Promise<void> {
    let target = index % this.instances.length;
    let sender = this.open(target);
    try {
      for (let stay = this.next++; stay < this.stays.length; stay = this.next++) {
        for (const message of this.stays[stay]) {
          for (;;) {
            const outcome = await sender.send(message).then(
              (result) => result.code,
              (error: unknown) => (error instanceof SendError ? error.kind : 'error'),
            );
            if (outcome === 'AA') break;
            this.stats.retried[outcome] = (this.stats.retried[outcome] ?? 0) + 1;
            // As an EPR's interface would: drop the connection, wait a moment, try the next instance.
            await sender.close();
            target = (target + 1) % this.instances.length;
            await new Promise((resolve) => setTimeout(resolve, 100));
            sender = this.open(target);
          }
          this.stats.acknowledged++;
        }
      }
    } finally {
      await sender.close();
    }
  }

  private open(target: number): MllpSender {
    return new MllpSender({ ...this.instances[target], ackTimeoutMs: this.ackTimeoutMs, connectTimeoutMs: 2000 });
  }
}
