// MedCom's reliable-messaging rules for the sender as pure decisions (docs/delivery.md): what a resent message
// changes and keeps, when to resend, when to give up, and how network errors back off without counting as resends.
import { expect } from 'chai';
import type { Bundle, MessageHeader, Provenance } from 'fhir/r4';
import { loadProfilePackages } from '../../lib/fhir/profiles';
import { createValidator } from '../../lib/fhir/validate';
import { bundleToXml, xmlToBundle } from '../../lib/fhir/xml';
import { MedComError } from '../../lib/medcom/errors';
import {
  ackDeadline,
  decideOnAcknowledgement,
  decideOnSilence,
  DEFAULT_RETRY_POLICY,
  networkRetryDelay,
  resendBody,
  resendMessage,
  retryPolicyFrom,
  RetrySettingsError,
  type DeliveryState,
  type RetrySettings,
} from '../../lib/medcom/resend';
import { describeShared, medcomPackages } from '../support/shared';
import { admissionAndDischarge, counter } from './messages';

const [, slhj] = admissionAndDischarge();
const later = '2025-03-18T14:35:00+01:00';
const provenances = (b: Bundle) => b.entry!.map((e) => e.resource!).filter((r): r is Provenance => r.resourceType === 'Provenance');
const minutes = (n: number) => n * 60_000;

describe('MedCom resend rules', () => {
  describe('resendMessage', () => {
    const resent = resendMessage(slhj.bundle, later, counter('99999999'));

    it('gives the message a new Bundle.id and a new send time, and keeps its MessageHeader.id', () => {
      expect(resent.id).to.equal('99999999-0000-4000-8000-000000000001');
      expect(resent.timestamp).to.equal(later);
      expect((resent.entry![0].resource as MessageHeader).id).to.equal(slhj.messageHeaderId);
      const current = provenances(resent)[1];
      expect(current.target[0].reference).to.equal(`MessageHeader/${slhj.messageHeaderId}`);
      expect(current.occurredDateTime).to.equal(later);
      expect(current.recorded).to.equal(later);
      expect(current.text!.div).to.include(later).and.not.include('2025-03-18T14:05:00+01:00');
    });

    it('changes nothing else: the carried-forward Provenance of the STIN, the Patient, the Encounter, every id', () => {
      const strip = (b: Bundle) => {
        const copy = structuredClone(b);
        delete copy.id;
        delete copy.timestamp;
        const current: Partial<Provenance> = provenances(copy)[1];
        delete current.occurredDateTime;
        delete current.recorded;
        delete current.text;
        return copy;
      };
      expect(strip(resent)).to.deep.equal(strip(slhj.bundle));
      expect(provenances(resent)[0]).to.deep.equal(provenances(slhj.bundle)[0]);
    });

    it('leaves the message it was given as it was', () => {
      expect(slhj.bundle.timestamp).to.equal('2025-03-18T14:05:00+01:00');
      expect(provenances(slhj.bundle)[1].recorded).to.equal('2025-03-18T14:05:00+01:00');
    });

    it('gives every resend its own Bundle.id by default', () => {
      const a = resendMessage(slhj.bundle, later);
      const b = resendMessage(slhj.bundle, later);
      expect(a.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(a.id).not.to.equal(b.id);
    });

    it('resends a serialised body in its own format, JSON or XML, returning what an outbox update needs', () => {
      const json = resendBody(JSON.stringify(slhj.bundle), 'json', later, counter('88888888'));
      expect(json.bundleId).to.equal('88888888-0000-4000-8000-000000000001');
      expect(JSON.parse(json.body)).to.deep.equal(resendMessage(slhj.bundle, later, counter('88888888')));
      const xml = resendBody(bundleToXml(slhj.bundle), 'xml', later, counter('88888888'));
      expect(xml.body).to.match(/^<\?xml/);
      expect(xmlToBundle(xml.body).id).to.equal(json.bundleId);
      expect(provenances(xmlToBundle(xml.body))[1].recorded).to.equal(later);
    });

    it('as a new message: a new MessageHeader.id and fullUrl, one more Provenance, a revision of the message before, sent now', () => {
      const again = resendMessage(slhj.bundle, later, counter('77777777'), 'new-message');
      const header = again.entry![0];
      expect([again.id, header.resource!.id, header.fullUrl!.endsWith(`/MessageHeader/${header.resource!.id}`)]).to.deep.equal([
        '77777777-0000-4000-8000-000000000001', '77777777-0000-4000-8000-000000000002', true,
      ]);
      const chain = provenances(again);
      expect(chain.slice(0, 2)).to.deep.equal(provenances(slhj.bundle));
      expect(chain[2]).to.deep.include({
        id: '77777777-0000-4000-8000-000000000003',
        target: [{ reference: `MessageHeader/${header.resource!.id}` }],
        occurredDateTime: later,
        recorded: later,
        activity: provenances(slhj.bundle)[1].activity,
        agent: provenances(slhj.bundle)[1].agent,
        entity: [{ role: 'revision', what: { reference: `MessageHeader/${slhj.messageHeaderId}` } }],
      });
      expect(again.entry!.at(-1)!.fullUrl).to.match(/\/Provenance\/77777777-0000-4000-8000-000000000003$/);
      const twice = resendMessage(again, later, counter('66666666'), 'new-message');
      expect(provenances(twice).at(-1)!.entity).to.deep.equal([{ role: 'revision', what: { reference: `MessageHeader/${header.resource!.id}` } }]);
      expect(resendBody(JSON.stringify(slhj.bundle), 'json', later, counter('77777777'), 'new-message').messageHeaderId).to.equal('77777777-0000-4000-8000-000000000002');
    });

    it('refuses a message without a Provenance of its own', () => {
      const broken = structuredClone(slhj.bundle);
      broken.entry = broken.entry!.filter((e) => e.resource!.resourceType !== 'Provenance');
      expect(() => resendMessage(broken, later)).to.throw(MedComError).with.property('code', 'incomplete-message');
    });
  });

  describe('decideOnSilence', () => {
    const sentAt = new Date('2025-03-11T07:00:00Z');
    const sent = (attempts: number): Pick<DeliveryState, 'attempts' | 'nextAttemptAt'> => ({ attempts, nextAttemptAt: ackDeadline(sentAt) });

    it('waits 30 minutes for the acknowledgement by default', () => {
      expect(ackDeadline(sentAt)).to.equal('2025-03-11T07:30:00.000Z');
      expect(decideOnSilence(sent(1), new Date(sentAt.getTime() + minutes(29)))).to.deep.equal({ action: 'wait', until: '2025-03-11T07:30:00.000Z' });
    });

    it('then resends, at most 3 times, then the message has failed', () => {
      const due = new Date(sentAt.getTime() + minutes(30));
      expect(decideOnSilence(sent(1), due)).to.deep.equal({ action: 'resend', at: due.toISOString(), resend: 1 });
      expect(decideOnSilence(sent(3), due)).to.deep.equal({ action: 'resend', at: due.toISOString(), resend: 3 });
      expect(decideOnSilence(sent(4), due)).to.deep.equal({ action: 'failed', reason: 'resends-exhausted' });
    });

    it('follows a configured policy: another timeout, 2 resends (as governance 020/043 says)', () => {
      const policy = { ...DEFAULT_RETRY_POLICY, ackTimeoutMs: minutes(60), maxResends: 2 };
      const state = { attempts: 3, nextAttemptAt: ackDeadline(sentAt, policy) };
      expect(decideOnSilence(state, new Date(sentAt.getTime() + minutes(45)), policy).action).to.equal('wait');
      expect(decideOnSilence(state, new Date(sentAt.getTime() + minutes(60)), policy)).to.deep.equal({ action: 'failed', reason: 'resends-exhausted' });
    });
  });

  describe('decideOnAcknowledgement', () => {
    const now = new Date('2025-03-11T07:05:00Z');
    const sent = (attempts = 1, status: DeliveryState['status'] = 'sent') => ({ status, attempts });

    it('ok: delivered', () => {
      expect(decideOnAcknowledgement({ code: 'ok' }, sent(), now)).to.deep.equal({ action: 'delivered' });
    });

    it('transient-error: resend after a pause, counted with the silence resends, at most 3', () => {
      expect(decideOnAcknowledgement({ code: 'transient-error' }, sent(1), now)).to.deep.equal({ action: 'resend', at: '2025-03-11T07:10:00.000Z', resend: 1 });
      expect(decideOnAcknowledgement({ code: 'transient-error' }, sent(4), now)).to.deep.equal({ action: 'failed', reason: 'resends-exhausted' });
    });

    it('fatal-error: failed at once, since the same content would be rejected again; a policy may resend on it', () => {
      expect(decideOnAcknowledgement({ code: 'fatal-error' }, sent(1), now)).to.deep.equal({ action: 'failed', reason: 'rejected' });
      const policy = { ...DEFAULT_RETRY_POLICY, resendOn: ['transient-error', 'fatal-error'] as const };
      expect(decideOnAcknowledgement({ code: 'fatal-error' }, sent(1), now, policy).action).to.equal('resend');
      const none = { ...DEFAULT_RETRY_POLICY, resendOn: [] };
      expect(decideOnAcknowledgement({ code: 'transient-error' }, sent(1), now, none)).to.deep.equal({ action: 'failed', reason: 'rejected' });
    });

    it('a late acknowledgement of an earlier transmission settles the message, also while a resend is pending', () => {
      expect(decideOnAcknowledgement({ code: 'ok' }, sent(2, 'failed'), now)).to.deep.equal({ action: 'delivered' });
      expect(decideOnAcknowledgement({ code: 'ok' }, sent(2, 'queued'), now)).to.deep.equal({ action: 'delivered' });
    });

    it('an acknowledgement of a settled message is a duplicate; of no message sent, unknown', () => {
      expect(decideOnAcknowledgement({ code: 'ok' }, sent(1, 'delivered'), now)).to.deep.equal({ action: 'duplicate', status: 'delivered' });
      expect(decideOnAcknowledgement({ code: 'fatal-error' }, sent(2, 'dead'), now)).to.deep.equal({ action: 'duplicate', status: 'dead' });
      expect(decideOnAcknowledgement({ code: 'ok' }, undefined, now)).to.deep.equal({ action: 'unknown' });
      expect(decideOnAcknowledgement({ code: 'ok' }, sent(0, 'queued'), now)).to.deep.equal({ action: 'unknown' });
    });
  });

  describe('networkRetryDelay', () => {
    it('doubles per consecutive failure from 10 s, between half and all of the nominal delay', () => {
      expect([1, 2, 3, 4].map((n) => networkRetryDelay(n, DEFAULT_RETRY_POLICY, () => 1))).to.deep.equal([10_000, 20_000, 40_000, 80_000]);
      expect([1, 2, 3, 4].map((n) => networkRetryDelay(n, DEFAULT_RETRY_POLICY, () => 0))).to.deep.equal([5_000, 10_000, 20_000, 40_000]);
      expect(networkRetryDelay(3, DEFAULT_RETRY_POLICY, () => 0.5)).to.equal(30_000);
    });

    it('stops growing at the cap (15 minutes by default), however long the network is down', () => {
      expect(networkRetryDelay(8, DEFAULT_RETRY_POLICY, () => 1)).to.equal(minutes(15));
      expect(networkRetryDelay(1000, DEFAULT_RETRY_POLICY, () => 1)).to.equal(minutes(15));
      expect(networkRetryDelay(1000, { ...DEFAULT_RETRY_POLICY, networkMaxDelayMs: minutes(2) }, () => 0)).to.equal(minutes(1));
    });
  });
});

describe('retryPolicyFrom: the resend settings of the medcom out node', () => {
  const problems = (settings: RetrySettings) => {
    try {
      retryPolicyFrom(settings);
    } catch (error) {
      expect(error).to.be.instanceOf(RetrySettingsError);
      return (error as RetrySettingsError).problems.map((p) => p.field);
    }
    throw new Error('expected the settings to be refused');
  };

  it('no settings (a flow saved before they existed) and blank settings give MedCom\'s defaults', () => {
    expect(retryPolicyFrom({})).to.deep.equal(DEFAULT_RETRY_POLICY);
    const blank = { ackTimeout: '', maxResends: ' ', resendOn: '', transientErrorDelay: null, networkBaseDelay: undefined, networkMaxDelay: '' };
    expect(retryPolicyFrom(blank)).to.deep.equal(DEFAULT_RETRY_POLICY);
  });

  it('reads each setting in its unit, as text from the editor or as a number from a flow file', () => {
    const policy = retryPolicyFrom({ ackTimeout: '60', maxResends: 2, resendOn: 'fatal-error', transientErrorDelay: '0', networkBaseDelay: 2.5, networkMaxDelay: ' 1 ' });
    expect(policy).to.deep.equal({
      ackTimeoutMs: minutes(60),
      maxResends: 2,
      resendOn: ['fatal-error'],
      transientErrorDelayMs: 0,
      networkBaseDelayMs: 2_500,
      networkMaxDelayMs: minutes(1),
      resendAs: 'same-message',
    });
    expect(retryPolicyFrom({ resendAs: 'new-message' }).resendAs).to.equal('new-message');
    expect(problems({ resendAs: 'twice' })).to.deep.equal(['resendAs']);
    expect(retryPolicyFrom({ ackTimeout: 0.005 }).ackTimeoutMs, 'fractions of a minute, for tests').to.equal(300);
  });

  it('maxResends: a whole number from 0 (only manual re-dispatch, as 020 and 032 say) to 3 (040); none of MedCom\'s documents allows more', () => {
    expect([0, '1', 3].map((n) => retryPolicyFrom({ maxResends: n }).maxResends)).to.deep.equal([0, 1, 3]);
    for (const bad of [4, -1, 1.5, 'three', true]) expect(problems({ maxResends: bad }), String(bad)).to.deep.equal(['maxResends']);
  });

  it('resendOn: transient-error, fatal-error or both, in a fixed order whatever order they are written in', () => {
    expect(retryPolicyFrom({ resendOn: 'transient-error' }).resendOn).to.deep.equal(['transient-error']);
    expect(retryPolicyFrom({ resendOn: 'fatal-error, transient-error' }).resendOn).to.deep.equal(['transient-error', 'fatal-error']);
    expect(retryPolicyFrom({ resendOn: 'transient-error,fatal-error' }).resendOn).to.deep.equal(['transient-error', 'fatal-error']);
    for (const bad of ['ok', 'transient-error,AE', ',', ['transient-error']]) expect(problems({ resendOn: bad }), JSON.stringify(bad)).to.deep.equal(['resendOn']);
  });

  it('refuses times out of range: no timeout of 0, no negative pause, nothing over a day, no network retry under a second', () => {
    expect(problems({ ackTimeout: 0 })).to.deep.equal(['ackTimeout']);
    expect(problems({ ackTimeout: 1441 })).to.deep.equal(['ackTimeout']);
    expect(retryPolicyFrom({ ackTimeout: 1440 }).ackTimeoutMs).to.equal(minutes(1440));
    expect(problems({ transientErrorDelay: -1 })).to.deep.equal(['transientErrorDelay']);
    expect(problems({ networkBaseDelay: 0.5 })).to.deep.equal(['networkBaseDelay']);
    expect(problems({ networkBaseDelay: 3601 })).to.deep.equal(['networkBaseDelay']);
    expect(problems({ networkMaxDelay: 0 })).to.deep.equal(['networkMaxDelay']);
    expect(problems({ ackTimeout: 'Infinity' })).to.deep.equal(['ackTimeout']);
  });

  it('refuses a longest network delay shorter than the first one', () => {
    expect(problems({ networkBaseDelay: 120, networkMaxDelay: 1 })).to.deep.equal(['networkMaxDelay']);
    expect(retryPolicyFrom({ networkBaseDelay: 60, networkMaxDelay: 1 }).networkMaxDelayMs).to.equal(minutes(1));
  });

  it('names every wrong setting at once, by its field and its label, with what it must be', () => {
    expect(problems({ ackTimeout: 'soon', maxResends: 5, resendOn: 'AE', networkBaseDelay: 0 })).to.deep.equal(['ackTimeout', 'maxResends', 'resendOn', 'networkBaseDelay']);
    expect(() => retryPolicyFrom({ ackTimeout: 'soon', maxResends: 5 })).to.throw(
      'the resend settings have 2 error(s): ackTimeout (Ack timeout): "soon" is not a number; it must be more than 0 and at most 1440 minutes (a day); ' +
        "maxResends (Max resends): 5 is out of range; it must be a whole number from 0 to 3 (MedCom's documents allow at most 3)",
    );
  });
});

describeShared('MedCom resend rules against the profiles', function () {
  it('a resent message is still a valid HospitalNotification, in JSON and after XML', () => {
    const validator = createValidator(loadProfilePackages(medcomPackages()));
    const errors = (b: Bundle) => validator.validate(b).issues.filter((i) => i.severity === 'error');
    const resent = resendMessage(slhj.bundle, later);
    expect(errors(resent)).to.deep.equal([]);
    expect(errors(xmlToBundle(resendBody(bundleToXml(slhj.bundle), 'xml', later).body))).to.deep.equal([]);
  });
});
