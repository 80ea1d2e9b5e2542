// When the engine tells a person: each condition past its threshold, once per repeat period, no personal data.
import { expect } from 'chai';
import { alertThresholdsFrom, AlertWatch, DEFAULT_ALERT_THRESHOLDS } from '../../lib/monitor';
import type { OutboxSummary } from '../../lib/store';

const message = (createdAt: string): OutboxSummary => ({
  id: 1,
  messageHeaderId: 'm1',
  bundleId: 'b1',
  stayKey: 'V1|REGH',
  advis: 'STIN',
  receiverGln: '5790001348120',
  receiverSor: '953741000016009',
  format: 'json',
  status: 'sent',
  attempts: 1,
  networkFailures: 0,
  createdAt,
  nextAttemptAt: createdAt,
  lastError: null,
});

describe('alerts', () => {
  let clock: Date;
  let watch: AlertWatch;
  beforeEach(() => {
    clock = new Date('2025-03-11T10:00:00Z');
    watch = new AlertWatch({ oldestUnacknowledgedMinutes: 60, heldMinutes: 30, backlog: 10, repeatMinutes: 60 }, () => clock);
  });

  it('raises each condition past its threshold, and nothing below it', () => {
    expect(watch.check({ oldestUnsettled: message('2025-03-11T09:00:00Z'), heldSince: ['2025-03-11T09:30:00Z'], backlog: 10 })).to.deep.equal([]);
    clock = new Date('2025-03-11T10:01:00Z');
    const alerts = watch.check({ oldestUnsettled: message('2025-03-11T09:00:00Z'), heldSince: ['2025-03-11T09:30:00Z', '2025-03-11T09:59:00Z'], backlog: 11 });
    expect(alerts).to.deep.equal([
      { kind: 'oldest-unacknowledged', at: '2025-03-11T10:01:00.000Z', messageHeaderId: 'm1', stayKey: 'V1|REGH', receiverGln: '5790001348120', minutes: 61, threshold: 60 },
      { kind: 'held', at: '2025-03-11T10:01:00.000Z', count: 1, minutes: 31, threshold: 30 },
      { kind: 'backlog', at: '2025-03-11T10:01:00.000Z', count: 11, threshold: 10 },
    ]);
  });

  it('raises the same alert again only after the repeat period; a dead message once per message', () => {
    const reading = { heldSince: [], backlog: 11 };
    expect(watch.check(reading)).to.have.length(1);
    clock = new Date('2025-03-11T10:59:59Z');
    expect(watch.check(reading)).to.deep.equal([]);
    clock = new Date('2025-03-11T11:00:00Z');
    expect(watch.check(reading)).to.have.length(1);

    const dead = { messageHeaderId: 'm1', stayKey: 'V1|REGH', receiverGln: '5790001348120', reason: 'rejected' };
    expect(watch.dead(dead)).to.deep.equal({ kind: 'dead', at: '2025-03-11T11:00:00.000Z', ...dead });
    expect(watch.dead(dead)).to.equal(undefined);
    expect(watch.dead({ ...dead, messageHeaderId: 'm2' })).to.include({ messageHeaderId: 'm2' });
  });

  it('takes its thresholds from the editor: blank is the default, anything else a whole number from 1', () => {
    expect(alertThresholdsFrom({})).to.deep.equal(DEFAULT_ALERT_THRESHOLDS);
    expect(alertThresholdsFrom({ backlog: '50', heldMinutes: ' ' })).to.deep.equal({ ...DEFAULT_ALERT_THRESHOLDS, backlog: 50 });
    expect(() => alertThresholdsFrom({ repeatMinutes: '0' })).to.throw(RangeError, 'repeatMinutes must be a whole number of at least 1, not "0"');
    expect(() => alertThresholdsFrom({ backlog: '2.5' })).to.throw(RangeError, 'backlog');
  });
});
