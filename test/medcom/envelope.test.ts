// VANSEnvelope 1.0.4: what goes around every advis (checked against MedCom's XSD by libxml2), what comes back to the
// inbox (receipts, acknowledgements), and the outbox file names.
import { expect } from 'chai';
import * as fs from 'node:fs';
import { validateXML } from 'xmllint-wasm';
import { bundleToXml } from '../../lib/fhir/xml';
import { buildAcknowledgement } from '../../lib/medcom/acknowledgement';
import { buildVansEnvelope, parseVansEnvelope, statisticalCode, vansDocument, type VansMessageContent, type VansReceipt } from '../../lib/medcom/envelope';
import { describeShared, shared } from '../support/shared';
import { admissionAndDischarge, codeOf, counter, expectExternalEntityRefused, withActivity } from './messages';

const [stin, slhj] = admissionAndDischarge();
const sentAt = new Date('2025-03-11T07:00:03.250Z');
const envelopeOf = (body: string, format: 'json' | 'xml' = 'json', extra = {}) =>
  buildVansEnvelope({ senderGln: '5790000209354', receiverGln: '5790001348120', body, format, sentAt, ...extra });

// VANS receipts as the XSD describes them (MedCom publishes no example); the XSD suite checks they are valid.
    const receipt = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>
<VANSEnvelope xmlns="urn:oio:medcom:vans-envelope:1.0.4">
  <SenderID EndPointType="VANS">MEDCOMVANS</SenderID>
  <ReceiverID EndPointType="EAN">5790000209354</ReceiverID>
  <EnvelopeIdentifier>5c8f3a2e-1b4d-4e6f-8a9b-0c1d2e3f4a5b</EnvelopeIdentifier>
  <SentDateTime>2025-03-11T08:00:09</SentDateTime>
  <Receipt>${body}</Receipt>
</VANSEnvelope>`;
    const original = `<OriginalEnvelopeIdentifier>${stin.bundle.id}</OriginalEnvelopeIdentifier>
    <OriginalMessage><Identifier>${stin.messageHeaderId}</Identifier>
      <Document><Format>HL7</Format><Name>MCM:FDIS20#AdmissionInpatient</Name><Version>3.0.0</Version><SizeInBytes>4711</SizeInBytes></Document>
    </OriginalMessage>`;
    const positive = receipt(`<PositiveMessage>${original}</PositiveMessage>`);
    const negative = receipt(`<NegativeVans><Error><Code>12</Code><Description>Unknown receiver</Description></Error><OriginalEnvelopeIdentifier>${stin.bundle.id}</OriginalEnvelopeIdentifier></NegativeVans>`);


describe('VANSEnvelope', () => {
  describe('building', () => {
    it('wraps an advis with the GLNs, Bundle.id as envelope id, MessageHeader.id as message id, HL7/FDIS20/3.0.0, reliable, MCM:MIME', () => {
      const body = JSON.stringify(stin.bundle);
      const envelope = parseVansEnvelope(envelopeOf(body));
      expect(envelope.sender).to.deep.equal({ id: '5790000209354', type: 'EAN' });
      expect(envelope.receiver).to.deep.equal({ id: '5790001348120', type: 'EAN' });
      expect(envelope.envelopeId).to.equal(stin.bundle.id);
      const content = envelope.content as VansMessageContent;
      expect(content.meta).to.deep.equal({
        messageId: stin.messageHeaderId,
        format: 'HL7',
        name: 'MCM:FDIS20#AdmissionInpatient',
        version: '3.0.0',
        sizeInBytes: Buffer.byteLength(body, 'utf8'),
        transport: 'reliable',
        serviceTags: { 'MCM:MIME': 'application/fhir+json' },
      });
      expect(content.body).to.equal(body);
      expect(content.format).to.equal('json');
    });

    it('counts SizeInBytes in UTF-8 bytes, not characters', () => {
      const body = JSON.stringify(stin.bundle);
      expect(body.length).to.be.lessThan(Buffer.byteLength(body, 'utf8'));
      expect(envelopeOf(body)).to.include(`<SizeInBytes>${Buffer.byteLength(body, 'utf8')}</SizeInBytes>`);
    });

    it('says application/fhir+xml for an XML body and carries it byte for byte', () => {
      const body = bundleToXml(slhj.bundle);
      const content = parseVansEnvelope(envelopeOf(body, 'xml')).content as VansMessageContent;
      expect(content.meta.serviceTags).to.deep.equal({ 'MCM:MIME': 'application/fhir+xml' });
      expect(content.meta.name).to.equal('MCM:FDIS20#EndHospitalStay');
      expect(content.format).to.equal('xml');
      expect(content.body).to.equal(body);
    });

    it('writes SentDateTime in Danish time with its offset, winter and summer', () => {
      expect(envelopeOf(JSON.stringify(stin.bundle))).to.include('<SentDateTime>2025-03-11T08:00:03+01:00</SentDateTime>');
      const summer = buildVansEnvelope({ senderGln: '5790000209354', receiverGln: '5790001348120', body: JSON.stringify(stin.bundle), format: 'json', sentAt: new Date('2025-07-01T10:00:00Z') });
      expect(parseVansEnvelope(summer).sentAt).to.equal('2025-07-01T12:00:00+02:00');
    });

    it('names an advis by the statistical code of its activity; corrections and cancellations as what they correct', () => {
      const table: [string, string][] = [
        ['admit-emergency', 'AcuteAmbulant'],
        ['revise-admit-emergency', 'AcuteAmbulant'],
        ['cancel-admit-emergency', 'AcuteAmbulant'],
        ['admit-inpatient', 'AdmissionInpatient'],
        ['cancel-admit-inpatient', 'AdmissionInpatient'],
        ['start-leave-inpatient', 'OnLeave'],
        ['revise-start-leave-inpatient', 'OnLeave'],
        ['end-leave-inpatient', 'EndOfLeave'],
        ['cancel-end-leave-inpatient', 'EndOfLeave'],
        ['discharge-emergency-home', 'EndHospitalStay'],
        ['discharge-inpatient-home', 'EndHospitalStay'],
        ['revise-discharge-inpatient-home', 'EndHospitalStay'],
      ];
      for (const [activity, code] of table) {
        expect(statisticalCode(activity), activity).to.equal(code);
        expect(vansDocument(withActivity(stin.bundle, activity)).name, activity).to.equal(`MCM:FDIS20#${code}`);
      }
      expect(codeOf(() => statisticalCode('new-message'))).to.equal('invalid-value');
    });

    it('can name it by the activity code instead (namePostfix: activity)', () => {
      const content = parseVansEnvelope(envelopeOf(JSON.stringify(slhj.bundle), 'json', { namePostfix: 'activity' })).content as VansMessageContent;
      expect(content.meta.name).to.equal('MCM:FDIS20#discharge-inpatient-home');
    });

    it('names an acknowledgement MCM:FCTL#<response code>, version 2.0.0', () => {
      const ack = buildAcknowledgement({ message: stin.bundle, code: 'transient-error', issues: [{ severity: 'error', code: 'transient', text: 'database down' }], now: '2025-03-11T08:01:00+01:00', newId: counter('11111111') });
      expect(vansDocument(ack)).to.deep.equal({ name: 'MCM:FCTL#transient-error', version: '2.0.0' });
    });

    it('refuses what the XSD would refuse: a GLN that is not 13 digits, a Bundle.id that is not a UUID', () => {
      expect(codeOf(() => buildVansEnvelope({ senderGln: '57900002093', receiverGln: '5790001348120', body: JSON.stringify(stin.bundle), format: 'json', sentAt }))).to.equal('invalid-value');
      const bad = { ...stin.bundle, id: 'not-a-uuid' };
      expect(codeOf(() => envelopeOf(JSON.stringify(bad)))).to.equal('invalid-value');
    });
  });

  describe('reading the inbox', () => {
    it('reads a positive receipt, naming the original envelope (Bundle.id) and message (MessageHeader.id)', () => {
      const envelope = parseVansEnvelope(positive);
      expect(envelope.sender).to.deep.equal({ id: 'MEDCOMVANS', type: 'VANS' });
      expect(envelope.sentAt).to.equal('2025-03-11T08:00:09');
      const content = envelope.content as VansReceipt;
      expect(content).to.deep.include({ kind: 'receipt', receipt: 'positive', originalEnvelopeId: stin.bundle.id });
      expect(content.originalMessage).to.deep.include({ messageId: stin.messageHeaderId, name: 'MCM:FDIS20#AdmissionInpatient', sizeInBytes: 4711 });
    });

    it('reads a negative VANS receipt with its error', () => {
      expect(parseVansEnvelope(negative).content).to.deep.equal({
        kind: 'receipt',
        receipt: 'negative-vans',
        originalEnvelopeId: stin.bundle.id,
        error: { code: 12, description: 'Unknown receiver' },
      });
    });

    it('reads an acknowledgement that comes in an envelope', () => {
      const ack = buildAcknowledgement({ message: stin.bundle, code: 'ok', now: '2025-03-11T08:01:00+01:00', newId: counter('22222222') });
      const xml = buildVansEnvelope({ senderGln: '5790001348120', receiverGln: '5790000209354', body: bundleToXml(ack), format: 'xml', sentAt });
      const content = parseVansEnvelope(xml).content as VansMessageContent;
      expect(content.meta.name).to.equal('MCM:FCTL#ok');
      expect(content.format).to.equal('xml');
      expect(content.body).to.include(`<identifier value="${stin.messageHeaderId}"/>`);
    });

    it('refuses a DOCTYPE, so an external entity is never read', () => {
      expectExternalEntityRefused(
        (secret) => positive.replace('<VANSEnvelope', `<!DOCTYPE VANSEnvelope [<!ENTITY x SYSTEM "file://${secret}">]>\n<VANSEnvelope`).replace('MEDCOMVANS', '&x;'),
        parseVansEnvelope,
      );
    });

    it('says what is wrong with something that is not an envelope', () => {
      expect(codeOf(() => parseVansEnvelope('<VANSEnvelope xmlns="urn:oio:medcom:vans-envelope:1.0.4"><SenderID'))).to.equal('malformed');
      expect(codeOf(() => parseVansEnvelope(positive.replace(/1\.0\.4/, '1.0.3')))).to.equal('not-envelope');
      expect(codeOf(() => parseVansEnvelope(positive.replace(/<EnvelopeIdentifier>.*<\/EnvelopeIdentifier>/, '')))).to.equal('not-envelope');
      expect(codeOf(() => parseVansEnvelope(positive.replace(/<PositiveMessage>[^]*<\/PositiveMessage>/, '<Unheard/>')))).to.equal('not-envelope');
      expect(codeOf(() => parseVansEnvelope(positive.replace('EndPointType="VANS"', 'EndPointType="GLN"')))).to.equal('not-envelope');
    });
  });
});

describeShared('VANSEnvelope against the VANSEnvelope 1.0.4 XSD', function () {
  const xsd = () => ({ fileName: 'vans-envelope-1.0.4.xsd', contents: fs.readFileSync(shared('medcom', 'vansenvelope', 'vans-envelope-1.0.4.xsd'), 'utf8') });
  const errorsOf = async (xml: string) => (await validateXML({ xml: [{ fileName: 'envelope.xml', contents: xml }], schema: [xsd()] })).errors.map((e) => e.message);

  it('every envelope built is valid: advis in JSON and XML, every postfix style, an acknowledgement', async () => {
    const ack = buildAcknowledgement({ message: slhj.bundle, code: 'fatal-error', issues: [{ severity: 'error', code: 'structure', detail: 'MSG_VALUESET_VALUE_UNKNOWN' }], now: '2025-03-18T14:06:00+01:00', newId: counter('33333333') });
    const envelopes = [
      envelopeOf(JSON.stringify(stin.bundle)),
      envelopeOf(bundleToXml(stin.bundle), 'xml'),
      envelopeOf(JSON.stringify(slhj.bundle), 'json', { namePostfix: 'activity' }),
      envelopeOf(JSON.stringify(ack)),
    ];
    for (const xml of envelopes) expect(await errorsOf(xml)).to.deep.equal([]);
  });

  it('the receipts the inbox tests read are valid too', async () => {
    for (const xml of [positive, negative]) expect(await errorsOf(xml)).to.deep.equal([]);
  });

  it('the validator is real: it rejects an envelope that breaks the schema', async () => {
    const broken = envelopeOf(JSON.stringify(stin.bundle)).replace('<Format>HL7</Format>', '<Format>FHIR</Format>');
    expect((await errorsOf(broken)).join('\n')).to.match(/Format.*FHIR.*not an element of the set/);
  });

  it("reads MedCom's own envelope example (an OIOXML XDIS22)", () => {
    const envelope = parseVansEnvelope(fs.readFileSync(shared('medcom', 'vansenvelope', 'vans-envelope-1.0.4-example-XDIS22-abridged.xml'), 'utf8'));
    expect(envelope.envelopeId).to.equal('068dadff-12bb-406d-8c86-083974dc0180');
    const content = envelope.content as VansMessageContent;
    expect(content.meta).to.deep.include({ format: 'XML', name: 'MCM:XDIS22', version: 'XD2230L', sizeInBytes: 6089, serviceTags: { 'MCM:STATISTIC': 'manual' } });
    expect(content.format).to.equal(undefined);
    expect(content.body).to.match(/^<\?xml/);
  });
});
