// The Prometheus figures: counters as the nodes report decisions and deliveries, gauges read at scrape time.
import { expect } from 'chai';
import { AdvisMetrics } from '../../lib/monitor';
import type { AdvisOutcome } from '../../lib/engine/outcome';
import type { DeliveryEvent } from '../../lib/delivery';

const outcome = (o: Partial<AdvisOutcome>): AdvisOutcome => ({ version: 1, idempotencyKey: 'k', event: 'A01', stayKey: 'V1|REGH', advis: null, ...o });
const event = (e: Partial<DeliveryEvent>): DeliveryEvent => ({ type: 'sent', messageHeaderId: 'm', stayKey: 's', receiverGln: '579', advis: 'STIN', at: '2025-03-11T10:00:00.000Z', attempts: 1, ...e });

describe('metrics', () => {
  it('counts ADT messages by event, notifications by advis type, no advis by reason, resends, dead letters and acknowledgement times', async () => {
    const reads: number[] = [];
    const metrics = new AdvisMetrics(() => {
      reads.push(1);
      return Promise.resolve([{ site: 'R', held: 2, outbox: [{ status: 'sent', receiverGln: '579', count: 3 }], storeBytes: 4096 }]);
    });
    metrics.decided('R', 'A01', [outcome({ advis: 'STIN' })]);
    metrics.decided('R', 'A01', [outcome({ advis: 'STIN', replayed: true })]);
    metrics.decided('R', 'A08', [outcome({ reason: 'nothing-changed' })]);
    metrics.outcomes('R', [outcome({ advis: 'STAA' })]);
    metrics.delivery(event({ type: 'resent', attempts: 2 }));
    metrics.delivery(event({ type: 'failed', reason: 'network' }));
    metrics.delivery(event({ type: 'failed', reason: 'rejected' }));
    metrics.delivery(event({ type: 'acknowledged', code: 'ok', sentAt: '2025-03-11T09:58:00.000Z' }));
    const text = await metrics.text();
    const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines).to.include.members([
      'advis_adt_messages_total{site="R",event="A01"} 2',
      'advis_adt_messages_total{site="R",event="A08"} 1',
      'advis_notifications_total{site="R",advis="STIN"} 1',
      'advis_notifications_total{site="R",advis="STAA"} 1',
      'advis_no_advis_total{site="R",reason="replayed"} 1',
      'advis_no_advis_total{site="R",reason="nothing-changed"} 1',
      'advis_resends_total{receiver="579"} 1',
      'advis_dead_letters_total{receiver="579",reason="rejected"} 1',
      'advis_acknowledgement_seconds_bucket{le="60",code="ok"} 0',
      'advis_acknowledgement_seconds_bucket{le="300",code="ok"} 1',
      'advis_acknowledgement_seconds_sum{code="ok"} 120',
      'advis_held{site="R"} 2',
      'advis_outbox_messages{site="R",state="sent",receiver="579"} 3',
      'advis_outbox_messages{site="R",state="dead",receiver="579"} 0',
      'advis_store_bytes{site="R"} 4096',
    ]);
    // One read of the stores per scrape, shared by the three gauges.
    expect(reads).to.have.length(1);
    expect(metrics.contentType).to.match(/^text\/plain; version=0\.0\.4/);
  });
});
