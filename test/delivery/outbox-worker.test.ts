// The outbox worker against real peers: the VANS folder with a simulated VANS client and municipality on the other
// side, and the loopback FHIR receiver. Time is a variable the tests move: nothing sleeps.
import { expect } from 'chai';
import type { Bundle, Provenance } from 'fhir/r4';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OutboxWorker, RestSink, VansFolderSink, VansInbox, type DeliveryEvent, type Sink, type Transport } from '../../lib/delivery';
import { DEFAULT_RETRY_POLICY, parseAcknowledgement, type RetryPolicy, type VansMessageContent } from '../../lib/medcom';
import { openMemoryStore, openSqliteStore, type AdvisStore } from '../../lib/store';
import { acknowledgement, startFhirReceiver, type FhirReceiver } from '../support/fhir-receiver';
import { inOrderPerStay, seedOutbox } from '../support/outbox';
import { startVansSimulator, type VansSimulator } from '../support/vans-simulator';
import { hospital } from '../medcom/messages';

const T0 = Date.parse('2025-03-11T07:00:00.000Z');
const MINUTE = 60_000;

describe('delivery: outbox worker', () => {
  let dir: string;
  let now: number;
  const clock = () => new Date(now);
  let events: DeliveryEvent[];
  let logs: string[];
  let closers: (() => Promise<void> | void)[];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-outbox-'));
    now = T0;
    events = [];
    logs = [];
    closers = [];
  });
  afterEach(async () => {
    for (const close of closers.reverse()) await close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function worker(store: AdvisStore, transport: Transport, concurrency = 4, policy?: RetryPolicy): OutboxWorker {
    const w = new OutboxWorker({
      store,
      transport,
      concurrency,
      ...(policy && { policy }),
      now: clock,
      random: () => 1,
      onEvent: (e) => events.push(e),
      onLog: (level, text) => logs.push(`${level}: ${text}`),
    });
    closers.push(() => w.stop());
    return w;
  }

  const statuses = async (store: AdvisStore, ids: string[]) => Promise.all(ids.map(async (id) => (await store.getOutbox(id))!.status));
  const eventsOf = (id: string) => events.filter((e) => e.messageHeaderId === id).map((e) => e.type + (e.code ? `:${e.code}` : '') + (e.reason ? `:${e.reason}` : ''));

  describe('VANS folder', () => {
    let outbox: string;
    let inbox: string;
    let vans: VansSimulator;
    const vansTransport = (): Transport => ({
      kind: 'vans',
      sink: new VansFolderSink({ dir: outbox, now: () => now }),
      inbox: new VansInbox({ dir: inbox }),
    });

    beforeEach(() => {
      outbox = path.join(dir, 'out');
      inbox = path.join(dir, 'in');
      fs.mkdirSync(outbox);
      fs.mkdirSync(inbox);
      vans = startVansSimulator({ outbox, inbox, now: clock });
    });

    it('envelopes every message as MedCom says, a stay\'s second only after its first was handed over, and delivers on ok', async () => {
      const store = openMemoryStore();
      const stays = await seedOutbox(store, 3);
      const w = worker(store, vansTransport());
      await w.tick();
      vans.step();
      await w.tick(); // reads the acknowledgements
      expect(vans.received.flatMap((d) => d.problems)).to.deep.equal([]);
      expect(inOrderPerStay(stays, vans.received.map((d) => d.messageHeaderId))).to.equal(true);
      const all = stays.flatMap((s) => s.messages);
      expect(await statuses(store, all)).to.deep.equal(all.map(() => 'delivered'));
      const first = vans.received[0];
      expect(first.envelope.sender.id).to.equal(hospital.gln); // from the Bundle's MessageHeader.sender
      expect(first.envelope.receiver.id).to.equal((await store.getOutbox(first.messageHeaderId))!.receiverGln);
      expect(eventsOf(stays[0].messages[1])).to.deep.equal(['sent', 'acknowledged:ok']);
      expect(fs.readdirSync(path.join(inbox, 'processed'))).to.have.length(6);
      expect((await store.audit({ messageHeaderId: stays[0].messages[0] })).map((a) => a.outcome)).to.deep.equal(['sent', 'delivered']);
    });

    it('FHIR XML messages travel as XML, resends too', async () => {
      const store = openMemoryStore();
      const [stay] = await seedOutbox(store, 1, 'xml');
      const w = worker(store, vansTransport());
      vans.answerNext('transient-error');
      await w.tick();
      vans.step();
      await w.tick();
      now += DEFAULT_RETRY_POLICY.transientErrorDelayMs;
      await w.tick();
      vans.step();
      await w.tick();
      expect(await statuses(store, stay.messages)).to.deep.equal(['delivered', 'delivered']);
      expect(vans.received.map((d) => d.problems)).to.deep.equal([[], [], []]);
      for (const d of vans.received) {
        const content = d.envelope.content as VansMessageContent;
        expect([content.meta.serviceTags['MCM:MIME'], content.body.startsWith('<')]).to.deep.equal(['application/fhir+xml', true]);
      }
      expect((await store.getOutbox(stay.messages[0]))!.body).to.match(/^<\?xml[^>]*>\s*<Bundle/); // the stored resend
    });

    it('silence: resends after 30 minutes with a new Bundle.id and send time, the same MessageHeader.id, then gives up', async () => {
      const store = openMemoryStore();
      const [stay] = await seedOutbox(store, 1);
      const id = stay.messages[0];
      const w = worker(store, vansTransport());
      vans.answerNext(...Array<'none'>(8).fill('none'));
      for (let transmission = 0; transmission < 4; transmission++) {
        await w.tick();
        expect(vans.step().map((d) => d.messageHeaderId)).to.include(id);
        now += DEFAULT_RETRY_POLICY.ackTimeoutMs - 1;
        await w.tick();
        expect((await store.getOutbox(id))!.status, 'waits until the deadline').to.equal('sent');
        now += 1;
      }
      await w.tick();
      expect(await store.getOutbox(id)).to.include({ status: 'dead', attempts: 4 });
      expect((await store.getOutbox(id))!.lastError).to.match(/^resends-exhausted/);
      const copies = vans.received.filter((d) => d.messageHeaderId === id);
      expect(copies).to.have.length(4);
      expect(new Set(copies.map((d) => d.bundleId)).size).to.equal(4);
      const times = copies.map((d) => {
        const bundle = d.envelope.content.kind === 'message' ? (JSON.parse(d.envelope.content.body) as Bundle) : undefined;
        const own = bundle!.entry!.map((e) => e.resource).find((r): r is Provenance => r?.resourceType === 'Provenance' && r.target[0].reference === `MessageHeader/${id}`);
        return own!.occurredDateTime;
      });
      expect(new Set(times).size, 'every transmission carries its own send time').to.equal(4);
      expect(eventsOf(id)).to.deep.equal(['sent', 'resent', 'resent', 'resent', 'failed:resends-exhausted']);
      // The stay's discharge went right after the admission was handed over, without waiting for its acknowledgement.
      expect(vans.received.slice(0, 2).map((d) => d.messageHeaderId)).to.deep.equal(stay.messages);
    });

    it('transient-error: resends after the wait; fatal-error: gives up with the OperationOutcome text', async () => {
      const store = openMemoryStore();
      const [a, b] = await seedOutbox(store, 2);
      const w = worker(store, vansTransport(), 1);
      vans.answerNext('transient-error', 'fatal-error');
      await w.tick();
      vans.step();
      await w.tick();
      expect(await store.getOutbox(a.messages[0])).to.include({ status: 'queued', nextAttemptAt: new Date(now + DEFAULT_RETRY_POLICY.transientErrorDelayMs).toISOString() });
      expect((await store.getOutbox(b.messages[0]))!.status).to.equal('dead');
      expect((await store.getOutbox(b.messages[0]))!.lastError).to.equal('rejected: fatal-error: error value the municipality answers fatal-error');
      expect(eventsOf(b.messages[0])).to.deep.equal(['sent', 'acknowledged:fatal-error', 'failed:rejected']);
      now += DEFAULT_RETRY_POLICY.transientErrorDelayMs;
      await w.tick();
      vans.step();
      await w.tick();
      expect(await store.getOutbox(a.messages[0])).to.include({ status: 'delivered', attempts: 2 });
      expect(eventsOf(a.messages[0])).to.deep.equal(['sent', 'acknowledged:transient-error', 'resent', 'acknowledged:ok']);
    });

    it('keeps unknown and duplicate acknowledgements and unreadable files, logs them, and goes on', async () => {
      const store = openMemoryStore();
      const [stay] = await seedOutbox(store, 1);
      const w = worker(store, vansTransport());
      await w.tick();
      vans.step();
      // The same acknowledgement twice, then one for a message nobody sent, then garbage.
      const [ackFile] = fs.readdirSync(inbox).filter((f) => f.endsWith('.xml'));
      fs.copyFileSync(path.join(inbox, ackFile), path.join(inbox, `${ackFile}.again.xml`));
      const foreign = fs.readFileSync(path.join(inbox, ackFile), 'utf8');
      await w.tick();
      fs.writeFileSync(path.join(inbox, 'zz-foreign.xml'), foreign);
      fs.writeFileSync(path.join(inbox, 'zz-garbage.xml'), '<not-an-envelope/>');
      await store.commit({ outboxUpdate: [{ messageHeaderId: stay.messages[0], status: 'dead' }] });
      await w.tick();
      expect((await store.getOutbox(stay.messages[0]))!.status).to.equal('dead');
      expect((await store.audit({ outcome: 'acknowledged' })).map((a) => a.reason)).to.deep.equal(['duplicate', 'duplicate']);
      expect(fs.readdirSync(path.join(inbox, 'failed'))).to.deep.equal(['zz-garbage.xml']);
      expect(fs.readdirSync(path.join(inbox, 'processed'))).to.have.length(4); // both acknowledgements, the copy, the foreign one
      expect(logs.filter((l) => /duplicate|not a VANS envelope/.test(l))).to.have.length(3);

      // For a message the store has never seen.
      const unknown = foreign.replace(/<Data>[^<]+<\/Data>/, (data) => {
        const ack = Buffer.from(data.slice(6, -7), 'base64').toString('utf8').replaceAll(stay.messages[0], '99999999-0000-4000-8000-000000000000');
        return `<Data>${Buffer.from(ack).toString('base64')}</Data>`;
      });
      fs.writeFileSync(path.join(inbox, 'zz-unknown.xml'), unknown);
      await w.tick();
      expect((await store.audit({ outcome: 'acknowledged', messageHeaderId: '99999999-0000-4000-8000-000000000000' })).map((a) => a.reason)).to.deep.equal(['unknown']);
    });

    const negativeReceipts = [
      { answer: 'negative-receipt', reason: 'negative-message', text: 'mailbox out of operation', names: 'the message' },
      // NegativeVans need only name the envelope, whose id is the Bundle.id of the transmission.
      { answer: 'negative-vans', reason: 'negative-vans', text: 'receiver unknown to VANS', names: 'only the envelope' },
    ] as const;
    for (const { answer, reason, text, names } of negativeReceipts) {
      it(`a ${reason} receipt, which names ${names}, is recorded; the message stays sent and the silence rule takes it on`, async () => {
        const store = openMemoryStore();
        const [stay] = await seedOutbox(store, 1);
        const w = worker(store, vansTransport());
        vans.answerNext(answer);
        await w.tick();
        vans.step();
        await w.tick();
        expect(await store.getOutbox(stay.messages[0])).to.include({ status: 'sent', lastError: `VANS receipt ${reason}: ${text}` });
        expect((await store.audit({ messageHeaderId: stay.messages[0], outcome: 'failed' })).map((a) => a.reason)).to.deep.equal([reason]);
      });
    }

    it('an outbox that cannot be written: backs off exponentially without counting resends, then delivers', async () => {
      const store = openMemoryStore();
      const [stay] = await seedOutbox(store, 1);
      const id = stay.messages[0];
      fs.rmSync(outbox, { recursive: true }); // the share is not mounted
      const w = worker(store, vansTransport());
      const delays: number[] = [];
      for (let i = 0; i < 3; i++) {
        await w.tick();
        const entry = (await store.getOutbox(id))!;
        expect(entry).to.include({ status: 'failed', attempts: 0 });
        delays.push(Date.parse(entry.nextAttemptAt) - now);
        now = Date.parse(entry.nextAttemptAt);
      }
      expect(delays).to.deep.equal([10_000, 20_000, 40_000]); // random() = 1: the full nominal delay
      // A restart during the outage goes on where the back-off was: the count is in the store.
      await w.stop();
      const again = worker(store, vansTransport());
      await again.tick();
      expect(Date.parse((await store.getOutbox(id))!.nextAttemptAt) - now).to.equal(80_000);
      now = Date.parse((await store.getOutbox(id))!.nextAttemptAt);
      fs.mkdirSync(outbox);
      await again.tick();
      expect(await store.getOutbox(id)).to.include({ status: 'sent', attempts: 1, lastError: null });
      expect(eventsOf(id)).to.deep.equal(['failed:network', 'failed:network', 'failed:network', 'failed:network', 'sent']);
      expect((await store.getOutbox(id))!.networkFailures).to.equal(0);
      // The outage is logged when it starts (and when a restarted worker finds it) and when it ends, not for every attempt.
      expect(logs.filter((l) => /handed over/.test(l)).map((l) => l.split(':')[0] + ': ' + l.split(': ')[1].split(',')[0])).to.deep.equal([
        'warn: messages cannot be handed over',
        'warn: messages cannot be handed over',
        'info: messages are handed over again (after io failures)',
      ]);
    });

    it('a worker started again on the same file picks up what was in flight: nothing lost, nothing sent twice', async () => {
      const file = path.join(dir, 'advis.db');
      const first = openSqliteStore(file);
      const stays = await seedOutbox(first, 5);
      const w1 = worker(first, vansTransport(), 2);
      await w1.tick(); // the five STINs go out; no acknowledgement has come yet
      await w1.stop();
      await first.close();
      vans.step(); // acknowledgements arrive while no worker runs

      const second = openSqliteStore(file);
      closers.push(async () => await second.close());
      const w2 = worker(second, vansTransport(), 2);
      await w2.tick(); // reads them, sends the SLHJs
      vans.step();
      await w2.tick();
      const all = stays.flatMap((s) => s.messages);
      expect(await statuses(second, all)).to.deep.equal(all.map(() => 'delivered'));
      const arrived = vans.received.map((d) => d.messageHeaderId);
      expect(arrived).to.have.length(all.length);
      expect(new Set(arrived).size).to.equal(all.length);
      expect(inOrderPerStay(stays, arrived)).to.equal(true);
    });

    it('a crash between handing a message over and recording it: sent again on restart as the same transmission, never lost', async () => {
      const file = path.join(dir, 'advis.db');
      const first = openSqliteStore(file);
      const [stay] = await seedOutbox(first, 1);
      const id = stay.messages[0];
      // The process dies right after the file is complete: the worker never hears back, so nothing is recorded.
      let handedOver!: () => void;
      const handed = new Promise<void>((resolve) => (handedOver = resolve));
      const folder = new VansFolderSink({ dir: outbox, now: () => now });
      const dying: Sink = {
        deliver: async (message) => {
          await folder.deliver(message);
          handedOver();
          return new Promise(() => undefined);
        },
        close: async () => undefined,
      };
      void new OutboxWorker({ store: first, transport: { kind: 'vans', sink: dying }, concurrency: 1, now: clock }).tick();
      await handed;
      await first.close();
      now += MINUTE; // the restart takes a while

      const second = openSqliteStore(file);
      closers.push(async () => await second.close());
      expect(await second.getOutbox(id)).to.include({ status: 'queued', attempts: 0 });
      const w = worker(second, vansTransport(), 1);
      await w.tick();
      vans.step();
      await w.tick();
      expect(await statuses(second, stay.messages)).to.deep.equal(['delivered', 'delivered']);
      const copies = vans.received.filter((d) => d.messageHeaderId === id);
      // At least once: the copy is the very same transmission (same Bundle.id, so the same EnvelopeIdentifier), which
      // VANS and the municipality recognise (MedCom MR8.R); its second acknowledgement is kept as a duplicate.
      expect(copies.map((d) => d.bundleId)).to.deep.equal([(await second.getOutbox(id))!.bundleId, (await second.getOutbox(id))!.bundleId]);
      expect((await second.audit({ outcome: 'acknowledged', messageHeaderId: id })).map((a) => a.reason)).to.deep.equal(['duplicate']);
      expect(inOrderPerStay([stay], vans.received.map((d) => d.messageHeaderId))).to.equal(true);
    });
  });

  describe('FHIR REST', () => {
    let receiver: FhirReceiver;
    const restTransport = (sink?: Sink): Transport => ({ kind: 'rest', sink: sink ?? new RestSink({ url: receiver.base, timeoutMs: 2_000 }) });
    const arrived = () => receiver.received.map((r) => r.messageHeaderId!);

    beforeEach(async () => {
      receiver = await startFhirReceiver();
      closers.push(() => receiver.close());
    });

    it('ok in the response delivers at once; transient-error resends; fatal-error gives up; no answer waits for silence', async () => {
      const store = openMemoryStore();
      const stays = await seedOutbox(store, 4);
      const transport = restTransport();
      closers.push(() => transport.sink.close());
      const w = worker(store, transport, 1);
      receiver.answerNext('ok', 'transient-error', 'fatal-error', 'accepted');
      await w.tick();
      const heads = stays.map((s) => s.messages[0]);
      expect(await statuses(store, heads)).to.deep.equal(['delivered', 'queued', 'dead', 'sent']);
      expect((await store.getOutbox(heads[2]))!.lastError).to.equal('rejected: fatal-error: error value the receiver answers fatal-error');
      // The first stay's discharge followed its delivered admission in the same round, the others' wait or went.
      expect((await store.getOutbox(stays[0].messages[1]))!.status).to.equal('delivered');

      now += DEFAULT_RETRY_POLICY.ackTimeoutMs;
      await w.tick();
      expect(await statuses(store, heads)).to.deep.equal(['delivered', 'delivered', 'dead', 'delivered']);
      const resent = receiver.received.filter((r) => r.messageHeaderId === heads[1]);
      expect(resent).to.have.length(2);
      expect(JSON.parse(resent[0].body).id).to.not.equal(JSON.parse(resent[1].body).id);
      expect(inOrderPerStay(stays, arrived())).to.equal(true);
    });

    it('resend as a new message (TouchStone PF-send-tec-03): each resend revises the transmission before; an acknowledgement of any of them settles it', async () => {
      const store = openMemoryStore();
      const [first, second] = await seedOutbox(store, 2);
      const transport = restTransport();
      closers.push(() => transport.sink.close());
      const w = worker(store, transport, 1, { ...DEFAULT_RETRY_POLICY, resendAs: 'new-message' });
      receiver.answerNext(...Array<'accepted'>(20).fill('accepted'));
      for (let round = 0; round < 3; round++) {
        await w.tick();
        now += DEFAULT_RETRY_POLICY.ackTimeoutMs;
      }
      // The admission's transmissions: the Bundles that carry its Provenance and are no discharge (which carries it too).
      const copies = (id: string) =>
        receiver.received.filter((r) => {
          const chain = (JSON.parse(r.body) as Bundle).entry!.map((e) => e.resource!).filter((x): x is Provenance => x.resourceType === 'Provenance');
          return chain.some((p) => p.target[0].reference === `MessageHeader/${id}`) && !chain.some((p) => p.activity!.coding![0].code!.startsWith('discharge'));
        });
      const transmissions = copies(first.messages[0]).map((r) => JSON.parse(r.body) as Bundle);
      expect(transmissions).to.have.length(3);
      const ids = transmissions.map((b) => b.entry![0].resource!.id!);
      expect(ids[0]).to.equal(first.messages[0]);
      expect(new Set(ids).size).to.equal(3);
      transmissions.forEach((b, i) => {
        const chain = b.entry!.map((e) => e.resource!).filter((r): r is Provenance => r.resourceType === 'Provenance');
        expect(chain, `transmission ${i + 1}`).to.have.length(1 + i);
        const own = chain.find((p) => p.target[0].reference === `MessageHeader/${ids[i]}`)!;
        if (i > 0) expect(own.entity).to.deep.equal([{ role: 'revision', what: { reference: `MessageHeader/${ids[i - 1]}` } }]);
        expect(b.entry!.filter((e) => e.fullUrl === `https://medcomfhir.dk/fhir/MessageHeader/${ids[i]}` || e.fullUrl?.endsWith(`/MessageHeader/${ids[i]}`))).to.have.length(1);
      });
      expect(receiver.received.map((r) => r.messageHeaderId)).to.include.members(ids);
      // Found by any of its transmissions; the latest one's acknowledgement delivers it, and the first one's late
      // acknowledgement is then a duplicate of the same entry.
      expect(await Promise.all(ids.map(async (id) => (await store.getOutbox(id))!.messageHeaderId))).to.deep.equal([ids[0], ids[0], ids[0]]);
      expect(await w.acknowledge(acknowledgement(ids[2], 'ok', false), 'application/fhir+json')).to.equal('delivered');
      expect(await w.acknowledge(acknowledgement(ids[0], 'ok', false), 'application/fhir+json')).to.equal('duplicate');
      expect((await store.getOutbox(ids[0]))!.status).to.equal('delivered');
      // An acknowledgement of the first transmission settles a message that was resent as a new one just as well.
      const other = copies(second.messages[0]).map((r) => JSON.parse(r.body) as Bundle);
      expect(other).to.have.length(3);
      expect(await w.acknowledge(acknowledgement(second.messages[0], 'ok', false), 'application/fhir+json')).to.equal('delivered');
      expect((await store.audit({ messageHeaderId: first.messages[0], outcome: 'resent' })).map((a) => a.detail)).to.deep.equal(
        ids.slice(1).map((id, i) => `Bundle.id ${transmissions[i + 1].id}, sent as a new message with MessageHeader.id ${id}`),
      );
    });

    it('a receiver down for a while, then up, gets everything, in order per stay', async () => {
      const store = openMemoryStore();
      const stays = await seedOutbox(store, 6);
      const port = Number(new URL(receiver.base).port);
      await receiver.close();
      const transport = restTransport(new RestSink({ url: receiver.base, timeoutMs: 2_000, connectTimeoutMs: 2_000 }));
      closers.push(() => transport.sink.close());
      const w = worker(store, transport, 3);
      for (let round = 0; round < 3; round++) {
        await w.tick();
        now += 15 * MINUTE; // past the longest back-off
      }
      const heads = stays.map((s) => s.messages[0]);
      expect(await statuses(store, heads)).to.deep.equal(heads.map(() => 'failed'));
      expect(await store.outboxByStatus('sent')).to.deep.equal([]);

      receiver = await startFhirReceiver({ port });
      closers.push(() => receiver.close());
      await w.tick();
      const all = stays.flatMap((s) => s.messages);
      expect(await statuses(store, all)).to.deep.equal(all.map(() => 'delivered'));
      expect(arrived()).to.have.length(all.length);
      expect(inOrderPerStay(stays, arrived())).to.equal(true);
      expect((await store.getOutbox(heads[0]))!.attempts, 'network failures are not resends').to.equal(1);
    });

    it('manual resend sends a delivered message again as a resend; dead-letter stops a waiting one', async () => {
      const store = openMemoryStore();
      const [a, b] = await seedOutbox(store, 2);
      const transport = restTransport();
      closers.push(() => transport.sink.close());
      const w = worker(store, transport, 1);
      receiver.answerNext('ok', 'transient-error', 'ok');
      await w.tick();
      expect(await statuses(store, [...a.messages, b.messages[0]])).to.deep.equal(['delivered', 'delivered', 'queued']);
      expect((await w.deadLetter(b.messages[0])).status).to.equal('dead');
      await w.resend(a.messages[0]);
      await w.tick();
      expect(await store.getOutbox(a.messages[0])).to.include({ status: 'delivered', attempts: 2 });
      const copies = receiver.received.filter((r) => r.messageHeaderId === a.messages[0]).map((r) => JSON.parse(r.body).id as string);
      expect(copies).to.have.length(2);
      expect(copies[0]).to.not.equal(copies[1]);
      expect(eventsOf(b.messages[0])).to.deep.equal(['sent', 'acknowledged:transient-error', 'failed:operator']);
      expect(eventsOf(a.messages[0])).to.deep.equal(['sent', 'acknowledged:ok', 'queued', 'resent', 'acknowledged:ok']);
      // The dead message's stay goes on: its discharge is not held behind a message an operator gave up.
      expect((await store.getOutbox(b.messages[1]))!.status).to.equal('delivered');
      const refusal = (id: string) => w.deadLetter(id).then(() => 'done', (e: Error) => e.message);
      expect(await refusal(a.messages[0])).to.equal(`the message ${a.messages[0]} is already delivered`);
      expect(await refusal('no-such-message')).to.equal('no outgoing message has MessageHeader.id no-such-message');
    });

    it('records sends that finish together in one group commit, and reports them once it is durable', async () => {
      const store = openMemoryStore();
      await seedOutbox(store, 4);
      // A sink that holds every delivery until the test lets those waiting go at once.
      const held: (() => void)[] = [];
      const sink: Sink = { deliver: () => new Promise((resolve) => held.push(() => resolve({ outcome: 'delivered' }))), close: async () => undefined };
      const releaseWhenFour = async () => {
        while (held.length < 4) await new Promise<void>((resolve) => setImmediate(resolve));
        held.splice(0).forEach((release) => release());
      };
      const w = worker(store, { kind: 'rest', sink }, 4);
      // For each transaction: how many sent events had gone out when it committed.
      const groups: number[] = [];
      const transaction = store.transaction.bind(store);
      store.transaction = async (work) => {
        try {
          return await transaction(work);
        } finally {
          groups.push(events.filter((e) => e.type === 'sent').length);
        }
      };
      const ticked = w.tick();
      await releaseWhenFour(); // the four STINs
      await releaseWhenFour(); // then the four SLHJs behind them
      await ticked;
      expect(await store.outboxByStatus('sent')).to.have.length(8);
      expect(groups, 'two commits of four, each reported after it').to.deep.equal([0, 4]);
      expect(events.filter((e) => e.type === 'sent')).to.have.length(8);
    });

    it('a send waiting for the group commit gives its place at the sink to the next stay', async () => {
      const store = openMemoryStore();
      const stays = await seedOutbox(store, 3);
      const [a, b, c] = stays.map((s) => s.messages[0]);
      // Deliveries are held until the test releases them by MessageHeader.id; `started` is the order they reached the sink.
      const release = new Map<string, () => void>();
      const started: string[] = [];
      let statusOfAWhenCStarted: string | undefined;
      const sink: Sink = {
        deliver: async (message) => {
          started.push(message.messageHeaderId);
          if (message.messageHeaderId === c) statusOfAWhenCStarted = (await store.getOutbox(a))!.status;
          return new Promise((resolve) => release.set(message.messageHeaderId, () => resolve({ outcome: 'delivered' })));
        },
        close: async () => undefined,
      };
      const waitFor = async (id: string) => {
        while (!release.has(id)) await new Promise<void>((resolve) => setImmediate(resolve));
        return release.get(id)!;
      };
      const w = worker(store, { kind: 'rest', sink }, 2);
      const ticked = w.tick();
      (await waitFor(a))(); // a is answered while b is still at the sink: a waits for b to share its commit
      (await waitFor(c))(); // c got a's place before a was committed
      (await waitFor(b))();
      for (const stay of stays) (await waitFor(stay.messages[1]))();
      await ticked;
      expect(started.slice(0, 3)).to.deep.equal([a, b, c]);
      expect(statusOfAWhenCStarted).to.equal('queued');
      expect(await store.outboxByStatus('sent')).to.have.length(6);
    });

    it('reads an acknowledgement handed in by a flow, and says what became of it', async () => {
      const store = openMemoryStore();
      const [stay] = await seedOutbox(store, 1);
      const transport = restTransport();
      closers.push(() => transport.sink.close());
      const w = worker(store, transport, 1);
      receiver.answerNext('accepted');
      await w.tick();
      const ack = acknowledgement(stay.messages[0], 'ok', false);
      expect(parseAcknowledgement(ack).acknowledges).to.equal(stay.messages[0]);
      expect(await w.acknowledge(ack, 'application/fhir+json')).to.equal('delivered');
      expect(await w.acknowledge(ack)).to.equal('duplicate');
      expect(await w.acknowledge('{"resourceType":"Patient"}')).to.equal('unreadable');
    });
  });
});
