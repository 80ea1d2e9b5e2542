// MedCom Acknowledgements: reading MedCom's own examples (JSON from the IG, XML and JSON from the test protocol),
// correlating by MessageHeader.response.identifier, and building acknowledgements the way MedCom's examples are built.
import { expect } from 'chai';
import type { Bundle, MessageHeader, OperationOutcome, Provenance } from 'fhir/r4';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MedComValidator } from '../../lib/fhir/validate';
import { bundleToXml } from '../../lib/fhir/xml';
import { buildAcknowledgement, parseAcknowledgement, type AcknowledgementCode } from '../../lib/medcom/acknowledgement';
import { MedComError } from '../../lib/medcom/errors';
import { describeShared, shared } from '../support/shared';
import { admissionAndDischarge, codeOf, counter, expectExternalEntityRefused, hospital, municipality } from './messages';

const [stin, slhj] = admissionAndDischarge();
const now = '2025-03-11T08:01:00+01:00';

const resources = <T>(bundle: Bundle, type: string): T[] => bundle.entry!.map((e) => e.resource!).filter((r) => r.resourceType === type) as T[];

describe('MedCom Acknowledgement', () => {
  describe('building (for simulators)', () => {
    it('answers the message to its sender, quoting its MessageHeader.id, with two Provenances', () => {
      const ack = buildAcknowledgement({ message: stin.bundle, code: 'ok', now, newId: counter('aaaaaaaa') });
      const header = ack.entry![0].resource as MessageHeader;
      expect(header.eventCoding!.code).to.equal('acknowledgement-message');
      expect(header.response).to.deep.equal({ identifier: stin.messageHeaderId, code: 'ok' });
      expect(header.destination![0].endpoint).to.equal(`https://sor2.sum.dsdn.dk/#id=${hospital.sor}`);
      expect(header.source!.endpoint).to.equal(`https://sor2.sum.dsdn.dk/#id=${municipality.sor}`);
      expect(resources(ack, 'OperationOutcome')).to.deep.equal([]);

      const [acknowledged, acknowledgement] = resources<Provenance>(ack, 'Provenance');
      expect(resources(ack, 'Provenance')).to.have.length(2);
      expect(acknowledged.target[0].reference).to.equal(`MessageHeader/${stin.messageHeaderId}`);
      expect(acknowledged.activity!.coding![0].code).to.equal('admit-inpatient');
      expect(acknowledgement).to.deep.include({ target: [{ reference: `MessageHeader/${header.id}` }], occurredDateTime: now, recorded: now });
      expect(acknowledgement.activity!.coding![0].code).to.equal('acknowledgement');
      expect(acknowledgement.entity).to.deep.equal([{ role: 'revision', what: { reference: `MessageHeader/${stin.messageHeaderId}` } }]);

      // Every reference resolves inside the acknowledgement.
      const ids = new Set(ack.entry!.map((e) => `${e.resource!.resourceType}/${e.resource!.id}`));
      for (const ref of JSON.stringify(ack).match(/"reference":"Organization\/[^"]+"/g)!) expect(ids.has(ref.slice(13, -1)), ref).to.equal(true);
    });

    it('carries only the latest Provenance of a message that has a chain', () => {
      const ack = buildAcknowledgement({ message: slhj.bundle, code: 'ok', now, newId: counter('aaaaaaaa') });
      const provenances = resources<Provenance>(ack, 'Provenance');
      expect(provenances).to.have.length(2);
      expect(provenances[0].activity!.coding![0].code).to.equal('discharge-inpatient-home');
    });

    it('adds an OperationOutcome for a negative code, and refuses one without any issue', () => {
      const ack = buildAcknowledgement({
        message: stin.bundle,
        code: 'fatal-error',
        issues: [{ severity: 'error', code: 'structure', detail: 'MSG_VALUESET_VALUE_UNKNOWN', text: 'Encounter.class' }],
        now,
        newId: counter('aaaaaaaa'),
      });
      const [outcome] = resources<OperationOutcome>(ack, 'OperationOutcome');
      expect((ack.entry![0].resource as MessageHeader).response!.details).to.deep.equal({ reference: `OperationOutcome/${outcome.id}` });
      expect(outcome.issue).to.deep.equal([
        {
          severity: 'error',
          code: 'structure',
          details: { coding: [{ system: 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-acknowledgement-error-codes', code: 'MSG_VALUESET_VALUE_UNKNOWN' }], text: 'Encounter.class' },
        },
      ]);
      expect(codeOf(() => buildAcknowledgement({ message: stin.bundle, code: 'transient-error', now, newId: counter() }))).to.equal('invalid-value');
    });
  });

  describe('reading', () => {
    for (const code of ['ok', 'transient-error', 'fatal-error'] as AcknowledgementCode[]) {
      it(`reads a ${code} acknowledgement in JSON and in XML alike: correlation, code, text, both parties`, () => {
        const issues = code === 'ok' ? [] : [{ severity: 'error' as const, code: code === 'fatal-error' ? 'structure' : 'transient', detail: 'MSG_X', text: 'what went wrong' }];
        const ack = buildAcknowledgement({ message: stin.bundle, code, issues, now, newId: counter('bbbbbbbb') });
        const fromJson = parseAcknowledgement(JSON.stringify(ack));
        const fromXml = parseAcknowledgement(bundleToXml(ack));
        expect(fromXml).to.deep.equal(fromJson);
        expect(fromJson).to.deep.equal({
          acknowledges: stin.messageHeaderId,
          code,
          text: code === 'ok' ? '' : `error ${issues[0].code} MSG_X what went wrong`,
          issues,
          sender: { gln: municipality.gln, sor: municipality.sor, name: municipality.name },
          receiver: hospital,
          bundleId: ack.id,
          messageHeaderId: ack.entry![0].resource!.id,
          timestamp: now,
        });
      });
    }

    it('reports what the validator finds, without refusing the acknowledgement', () => {
      const ack = buildAcknowledgement({ message: stin.bundle, code: 'ok', now, newId: counter('cccccccc') });
      const seen: Bundle[] = [];
      const validator: MedComValidator = {
        validate: (bundle) => {
          seen.push(bundle);
          return { valid: false, issues: [{ severity: 'error', path: 'Bundle.entry[0]', message: 'something the profile forbids' }] };
        },
      };
      const parsed = parseAcknowledgement(JSON.stringify(ack), { validator });
      expect(parsed.code).to.equal('ok');
      expect(parsed.validation).to.deep.equal({ valid: false, issues: [{ severity: 'error', path: 'Bundle.entry[0]', message: 'something the profile forbids' }] });
      expect(seen[0].id).to.equal(ack.id);
      expect(parseAcknowledgement(JSON.stringify(ack))).not.to.have.property('validation');
    });

    it('never expands an entity: an XML acknowledgement with a DOCTYPE is refused and the file it names is not read', () => {
      const ack = bundleToXml(buildAcknowledgement({ message: stin.bundle, code: 'ok', now, newId: counter('dddddddd') }));
      expectExternalEntityRefused(
        (secret) =>
          ack.replace('<Bundle', `<!DOCTYPE Bundle [<!ENTITY x SYSTEM "file://${secret}">]>\n<Bundle`).replace(`<identifier value="${stin.messageHeaderId}"/>`, '<identifier value="&x;"/>'),
        parseAcknowledgement,
      );
    });

    it('says what is wrong with something that is not an acknowledgement', () => {
      expect(codeOf(() => parseAcknowledgement('not FHIR'))).to.equal('malformed');
      expect(codeOf(() => parseAcknowledgement('{"resourceType":'))).to.equal('malformed');
      // The error never quotes the text it could not read: it could be personal data.
      expect(() => parseAcknowledgement('{"cpr": 0101800005}')).to.throw(MedComError).with.property('message').that.not.include('0101800005');
      expect(codeOf(() => parseAcknowledgement('<Bundle xmlns="http://hl7.org/fhir"><id value="x"/>', { format: 'xml' }))).to.equal('malformed');
      expect(codeOf(() => parseAcknowledgement('{"resourceType":"Patient"}'))).to.equal('not-message');
      expect(codeOf(() => parseAcknowledgement(JSON.stringify(stin.bundle)))).to.equal('not-message');
      const ack = buildAcknowledgement({ message: stin.bundle, code: 'ok', now, newId: counter('eeeeeeee') });
      const header = ack.entry![0].resource as MessageHeader;
      header.response!.code = 'maybe' as 'ok';
      expect(codeOf(() => parseAcknowledgement(JSON.stringify(ack)))).to.equal('incomplete-message');
      delete header.response;
      expect(codeOf(() => parseAcknowledgement(JSON.stringify(ack)))).to.equal('incomplete-message');
    });
  });
});

describeShared("MedCom Acknowledgement: MedCom's examples", function () {
  const igDir = () => shared('medcom', 'packages', 'acknowledgement-2.0.3', 'example');
  const testDir = () => shared('medcom', 'acknowledgement-docs', 'test-examples-receive');
  const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), 'utf8');

  it('reads the three IG example acknowledgements, one per code, with their MedCom error codes', () => {
    const parsed = ['a8c041b8-c65a-4fde-a90f-962076918834', 'bc9535ef-ed94-4060-a928-7baddec7ee71', 'c9c2b2f6-0807-11ed-861d-0242ac120002'].map((id) =>
      parseAcknowledgement(read(igDir(), `Bundle-${id}.json`)),
    );
    expect(parsed.map((a) => [a.acknowledges, a.code, a.text])).to.deep.equal([
      ['42cb9200-f421-4d08-8391-7d51a2503cb4', 'ok', ''],
      ['53128d9b-cede-4c7f-8904-809eab322d7d', 'fatal-error', 'error structure MSG_VALUESET_VALUE_UNKNOWN'],
      ['53128d9b-cede-4c7f-8904-809eab322d7d', 'transient-error', 'error value MSG_Mailbox_Out_Of_Operation'],
    ]);
    expect(parsed[0].sender).to.deep.equal({ gln: '5790001348120', sor: '953741000016009', name: 'Sender Organization' });
    expect(parsed[0].receiver).to.deep.equal({ gln: '5790000209354', sor: '265161000016000', name: 'Receiver Organization' });
  });

  it('refuses the IG example that is a CareCommunication, not an acknowledgement', () => {
    expect(codeOf(() => parseAcknowledgement(read(igDir(), 'Bundle-eb26be85-fdb7-454d-a980-95cba6d1745b.json')))).to.equal('not-message');
  });

  it('reads every test-protocol example (XML and JSON): AA = ok, AE = fatal-error, AR = transient-error, as their names say', () => {
    const files = fs.readdirSync(testDir()).sort();
    expect(files).to.have.length(9);
    const expected: Record<string, AcknowledgementCode> = { AA: 'ok', AE: 'fatal-error', AR: 'transient-error' };
    for (const file of files) {
      const ack = parseAcknowledgement(read(testDir(), file));
      expect(ack.code, file).to.equal(expected[/_A[-_](A[AER])\./.exec(file)![1]]);
      expect(ack.acknowledges, file).to.match(/^[0-9a-f-]{36}$/);
      if (ack.code !== 'ok') expect(ack.issues, file).to.have.length.greaterThan(0);
    }
    expect(parseAcknowledgement(read(testDir(), 'Ack_3.3.3.4_A_AR.xml')).text).to.equal('information informational No summary for the Patient instance.');
  });
});
