// The FHIR REST sink against a real loopback receiver: where it posts and what, how each kind of answer becomes a
// receipt, every way of authenticating (with OAuth 2.0 token caching, expiry and refresh on 401), TLS with a private
// CA and client certificates, timeouts, keep-alive, and error texts that never carry secrets or personal data.
import { expect } from 'chai';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { RestSink, type DeliveryReceipt, type OutgoingMessage, type RestSinkOptions } from '../../lib/delivery';
import { startFhirReceiver, type FhirReceiver, type FhirReceiverOptions } from '../support/fhir-receiver';
import { makeTestCa, type TestCa } from '../support/test-ca';

const HEADER_ID = 'f0e1d2c3-b4a5-4968-8776-655443322110';
const CPR = '0101800005';
const SECRET = 's3cret-never-logged';

function hospitalNotification(format: 'json' | 'xml' = 'json'): OutgoingMessage {
  if (format === 'xml') {
    return {
      messageHeaderId: HEADER_ID,
      contentType: 'application/fhir+xml',
      body: `<Bundle xmlns="http://hl7.org/fhir"><id value="b7c8d9e0-f1a2-4b3c-9d4e-5f6a7b8c9d0e"/><type value="message"/><entry><resource><MessageHeader><id value="${HEADER_ID}"/></MessageHeader></resource></entry></Bundle>`,
    };
  }
  return {
    messageHeaderId: HEADER_ID,
    contentType: 'application/fhir+json',
    body: JSON.stringify({
      resourceType: 'Bundle',
      id: 'b7c8d9e0-f1a2-4b3c-9d4e-5f6a7b8c9d0e',
      type: 'message',
      entry: [
        { resource: { resourceType: 'MessageHeader', id: HEADER_ID } },
        { resource: { resourceType: 'Patient', identifier: [{ system: 'urn:oid:1.2.208.176.1.2', value: CPR }], name: [{ given: ['Jens'], family: 'Hansen' }] } },
      ],
    }),
  };
}

/** The MessageHeader.response of an Acknowledgement in a receipt. */
function acknowledged(receipt: DeliveryReceipt): { identifier: string; code: string } {
  if (!receipt.response) throw new Error(`no response body in ${JSON.stringify(receipt)}`);
  const bundle = JSON.parse(receipt.response.body) as { entry: { resource: { response: { identifier: string; code: string } } }[] };
  return bundle.entry[0].resource.response;
}

function expectNoSecrets(receipt: DeliveryReceipt): void {
  const text = JSON.stringify({ ...receipt, response: undefined });
  expect(text).not.to.include(SECRET);
  expect(text).not.to.include(CPR);
}

describe('delivery: FHIR REST sink', () => {
  const open: { close(): Promise<void> }[] = [];
  async function receiver(options?: FhirReceiverOptions): Promise<FhirReceiver> {
    const r = await startFhirReceiver(options);
    open.push(r);
    return r;
  }
  function sink(options: RestSinkOptions): RestSink {
    const s = new RestSink(options);
    open.push(s);
    return s;
  }
  afterEach(async () => {
    while (open.length) await open.pop()?.close();
  });

  describe('what it sends and where', () => {
    it('POSTs the Bundle unchanged to <base>/$process-message and hands back the Acknowledgement', async () => {
      const r = await receiver();
      const message = hospitalNotification();
      const receipt = await sink({ url: `${r.base}/` }).deliver(message);
      expect(receipt).to.include({ outcome: 'delivered', status: 200 });
      expect(acknowledged(receipt)).to.deep.equal({ identifier: HEADER_ID, code: 'ok' });
      expect(receipt.response?.contentType).to.equal('application/fhir+json');
      expect(r.received).to.have.length(1);
      expect(r.received[0]).to.include({ path: '/fhir/$process-message', body: message.body, messageHeaderId: HEADER_ID });
      expect(r.received[0].headers).to.include({ 'content-type': 'application/fhir+json', accept: 'application/fhir+json' });
    });

    it('POSTs to the configured URL as is with target "url"', async () => {
      const r = await receiver();
      await sink({ url: `${r.base}/messages/in?tenant=0163`, target: 'url' }).deliver(hospitalNotification());
      expect(r.received[0].path).to.equal('/fhir/messages/in?tenant=0163');
    });

    it('sends FHIR XML as application/fhir+xml and asks for XML back', async () => {
      const r = await receiver();
      const receipt = await sink({ url: r.base }).deliver(hospitalNotification('xml'));
      expect(r.received[0].headers).to.include({ 'content-type': 'application/fhir+xml', accept: 'application/fhir+xml' });
      expect(r.received[0].messageHeaderId).to.equal(HEADER_ID);
      expect(receipt.outcome).to.equal('delivered');
      expect(receipt.response?.body).to.include(`<identifier value="${HEADER_ID}"/><code value="ok"/>`);
    });

    it('gives the receiver\'s validation verdict back to the caller as the Acknowledgement it answered with', async () => {
      const r = await receiver({ validate: (m) => (m.body.includes('"Patient"') ? [] : ['no Patient']) });
      const receipt = await sink({ url: r.base }).deliver({ ...hospitalNotification(), body: '{"resourceType":"Bundle","type":"message","entry":[]}' });
      expect(r.received[0].problems).to.deep.equal(['no Patient']);
      expect(receipt.outcome).to.equal('delivered');
      expect(acknowledged(receipt).code).to.equal('fatal-error');
    });

    it('keeps one connection alive for many deliveries', async () => {
      const r = await receiver();
      const s = sink({ url: r.base });
      for (let i = 0; i < 5; i++) expect((await s.deliver(hospitalNotification())).outcome).to.equal('delivered');
      expect(new Set(r.received.map((m) => m.remotePort)).size).to.equal(1);
    });

    it('refuses a URL that is not http(s)', () => {
      expect(() => new RestSink({ url: 'ftp://example.org/fhir' })).to.throw(/http\(s\) URL/);
    });
  });

  describe('how answers become receipts', () => {
    const cases: [Parameters<FhirReceiver['answerNext']>[0], Partial<DeliveryReceipt> & { outcome: string }][] = [
      ['accepted', { outcome: 'delivered', status: 202 }],
      ['http-400', { outcome: 'permanent', status: 400, reason: 'http' }],
      ['http-500', { outcome: 'transient', status: 500, reason: 'http' }],
      ['http-503', { outcome: 'transient', status: 503, reason: 'http', retryAfterMs: 120_000 }],
      ['http-429', { outcome: 'transient', status: 429, reason: 'http', retryAfterMs: 120_000 }],
      ['http-401', { outcome: 'transient', status: 401, reason: 'auth' }],
    ];
    for (const [answer, expected] of cases) {
      it(`${answer} → ${expected.outcome}`, async () => {
        const r = await receiver();
        r.answerNext(answer);
        const receipt = await sink({ url: r.base }).deliver(hospitalNotification());
        expect(receipt).to.include(expected);
        if (receipt.outcome !== 'delivered') expect(receipt.message).to.include(`${r.base}/$process-message`);
      });
    }

    it('an answer without a body carries no response; an error answer carries the OperationOutcome', async () => {
      const r = await receiver();
      r.answerNext('accepted', 'http-400');
      const s = sink({ url: r.base });
      expect(await s.deliver(hospitalNotification())).not.to.have.property('response');
      const refused = await s.deliver(hospitalNotification());
      expect(JSON.parse(refused.response?.body ?? '{}')).to.have.property('resourceType', 'OperationOutcome');
    });

    it('transient-error and fatal-error Acknowledgements are deliveries: the caller reads the code', async () => {
      const r = await receiver();
      r.answerNext('transient-error', 'fatal-error');
      const s = sink({ url: r.base });
      const first = await s.deliver(hospitalNotification());
      const second = await s.deliver(hospitalNotification());
      expect([first.outcome, second.outcome]).to.deep.equal(['delivered', 'delivered']);
      expect([acknowledged(first).code, acknowledged(second).code]).to.deep.equal(['transient-error', 'fatal-error']);
    });

    it('a refused connection is a transient network failure', async () => {
      const r = await receiver();
      const url = r.base;
      await r.close();
      const receipt = await sink({ url }).deliver(hospitalNotification());
      expect(receipt).to.include({ outcome: 'transient', reason: 'network' });
    });

    it('a receiver that never answers is a transient timeout', async () => {
      const r = await receiver();
      r.answerNext('hang');
      const receipt = await sink({ url: r.base, timeoutMs: 200 }).deliver(hospitalNotification());
      expect(receipt).to.include({ outcome: 'transient', reason: 'timeout' });
      if (receipt.outcome !== 'delivered') expect(receipt.message).to.match(/no complete answer/);
      expect(r.received).to.have.length(1);
    });

    it('an error text shows the URL without credentials or query', async () => {
      const r = await receiver();
      r.answerNext('http-500');
      const url = new URL(`${r.base}/in?api_key=${SECRET}`);
      url.username = 'user';
      url.password = SECRET;
      const receipt = await sink({ url: url.href, target: 'url' }).deliver(hospitalNotification());
      expect(receipt.outcome).to.equal('transient');
      expectNoSecrets(receipt);
    });
  });

  describe('authentication', () => {
    it('basic: sends the user name and password; a wrong password is a transient auth failure that names no secret', async () => {
      const r = await receiver({ auth: { type: 'basic', username: 'herlev', password: SECRET } });
      expect(await sink({ url: r.base, auth: { type: 'basic', username: 'herlev', password: SECRET } }).deliver(hospitalNotification()))
        .to.include({ outcome: 'delivered' });
      const refused = await sink({ url: r.base, auth: { type: 'basic', username: 'herlev', password: `${SECRET}x` } }).deliver(hospitalNotification());
      expect(refused).to.include({ outcome: 'transient', reason: 'auth', status: 401 });
      expectNoSecrets(refused);
    });

    it('bearer: sends the fixed token', async () => {
      const r = await receiver({ auth: { type: 'bearer', token: SECRET } });
      expect(await sink({ url: r.base, auth: { type: 'bearer', token: SECRET } }).deliver(hospitalNotification())).to.include({ outcome: 'delivered' });
      expect(r.received[0].headers.authorization).to.equal(`Bearer ${SECRET}`);
      const refused = await sink({ url: r.base }).deliver(hospitalNotification());
      expect(refused).to.include({ outcome: 'transient', reason: 'auth' });
    });

    describe('OAuth 2.0 client credentials', () => {
      const credentials = (r: FhirReceiver, extra: object = {}) => ({ type: 'oauth2' as const, tokenUrl: r.tokenUrl, clientId: 'advis herlev', clientSecret: SECRET, ...extra });
      const oauthReceiver = (expiresIn?: number) => receiver({ auth: { type: 'oauth2', clientId: 'advis herlev', clientSecret: SECRET, ...(expiresIn && { expiresIn }) } });

      it('fetches one token (HTTP Basic client authentication, with the scope) and uses it for every delivery', async () => {
        const r = await oauthReceiver();
        const s = sink({ url: r.base, auth: credentials(r, { scope: 'system/MessageHeader.write' }) });
        for (let i = 0; i < 3; i++) expect((await s.deliver(hospitalNotification())).outcome).to.equal('delivered');
        expect(r.tokenRequests).to.deep.equal([{ clientAuth: 'basic', scope: 'system/MessageHeader.write', granted: true }]);
        expect(new Set(r.received.map((m) => m.headers.authorization)).size).to.equal(1);
        expect([...r.validTokens].map((t) => `Bearer ${t}`)).to.deep.equal([r.received[0].headers.authorization]);
      });

      it('deliveries that start together wait for one token request', async () => {
        const r = await oauthReceiver();
        const s = sink({ url: r.base, auth: credentials(r) });
        const receipts = await Promise.all(Array.from({ length: 5 }, () => s.deliver(hospitalNotification())));
        expect(receipts.map((x) => x.outcome)).to.deep.equal(Array(5).fill('delivered'));
        expect(r.tokenRequests).to.have.length(1);
      });

      it('can send the client id and secret in the form body instead', async () => {
        const r = await oauthReceiver();
        expect((await sink({ url: r.base, auth: credentials(r, { clientAuth: 'body' }) }).deliver(hospitalNotification())).outcome).to.equal('delivered');
        expect(r.tokenRequests).to.deep.equal([{ clientAuth: 'body', granted: true }]);
      });

      it('renews the token 30 s before it expires, by the sink\'s clock', async () => {
        const r = await oauthReceiver(3600);
        let now = Date.parse('2025-03-11T08:00:00Z');
        const s = sink({ url: r.base, auth: credentials(r), now: () => now });
        await s.deliver(hospitalNotification());
        now += 3569_000;
        await s.deliver(hospitalNotification());
        expect(r.tokenRequests).to.have.length(1);
        now += 2_000;
        await s.deliver(hospitalNotification());
        expect(r.tokenRequests).to.have.length(2);
        expect(r.received[2].headers.authorization).not.to.equal(r.received[1].headers.authorization);
      });

      it('a 401 drops the token, fetches a new one and tries once more', async () => {
        const r = await oauthReceiver();
        const s = sink({ url: r.base, auth: credentials(r) });
        await s.deliver(hospitalNotification());
        r.expireTokens();
        const receipt = await s.deliver(hospitalNotification());
        expect(receipt.outcome).to.equal('delivered');
        expect(r.tokenRequests).to.have.length(2);
        expect(r.received.map((m) => m.answer)).to.deep.equal(['ok', 'unauthorized', 'ok']);
      });

      it('a second 401 after the refresh ends the attempt as a transient auth failure', async () => {
        const r = await oauthReceiver();
        r.answerNext('http-401', 'http-401');
        const receipt = await sink({ url: r.base, auth: credentials(r) }).deliver(hospitalNotification());
        expect(receipt).to.include({ outcome: 'transient', reason: 'auth', status: 401 });
        expect(r.tokenRequests).to.have.length(2);
        expect(r.received).to.have.length(2);
      });

      it('a token endpoint that refuses the client: transient auth failure with the OAuth error code, no secret, nothing posted', async () => {
        const r = await oauthReceiver();
        const receipt = await sink({ url: r.base, auth: { ...credentials(r), clientSecret: `${SECRET}-old` } }).deliver(hospitalNotification());
        expect(receipt).to.include({ outcome: 'transient', reason: 'auth' });
        if (receipt.outcome !== 'delivered') expect(receipt.message).to.include('invalid_client').and.include(r.tokenUrl);
        expectNoSecrets(receipt);
        expect(r.received).to.have.length(0);
      });

      it('a token endpoint out of reach is a transient network failure', async () => {
        const r = await oauthReceiver();
        const receipt = await sink({ url: r.base, auth: { ...credentials(r), tokenUrl: 'http://127.0.0.1:9/token' } }).deliver(hospitalNotification());
        expect(receipt).to.include({ outcome: 'transient', reason: 'network' });
      });
    });
  });

  describe('TLS', function () {
    let ca: TestCa;
    before(function () {
      this.timeout(30_000);
      ca = makeTestCa();
    });

    it('trusts a receiver whose certificate the configured CA signed', async () => {
      const r = await receiver({ tls: ca.server });
      expect((await sink({ url: r.base, tls: { ca: ca.ca.cert } }).deliver(hospitalNotification())).outcome).to.equal('delivered');
    });

    it('refuses a receiver certificate from an unknown CA as a transient TLS failure', async () => {
      const r = await receiver({ tls: ca.server });
      const receipt = await sink({ url: r.base }).deliver(hospitalNotification());
      expect(receipt).to.include({ outcome: 'transient', reason: 'tls' });
      expect(r.received).to.have.length(0);
    });

    it('rejectUnauthorized: false accepts it anyway', async () => {
      const r = await receiver({ tls: ca.server });
      expect((await sink({ url: r.base, tls: { rejectUnauthorized: false } }).deliver(hospitalNotification())).outcome).to.equal('delivered');
    });

    describe('mutual TLS', () => {
      const mtls = () => receiver({ tls: { ...ca.server, ca: ca.ca.cert, requestCert: true } });

      it('a client certificate the receiver trusts is accepted', async () => {
        const r = await mtls();
        const receipt = await sink({ url: r.base, tls: { ca: ca.ca.cert, ...ca.client } }).deliver(hospitalNotification());
        expect(receipt.outcome).to.equal('delivered');
        expect(r.received[0].clientCertificate).to.equal('client');
      });

      it('so is the same certificate with its key under a passphrase', async () => {
        const r = await mtls();
        const tls = { ca: ca.ca.cert, cert: ca.client.cert, key: ca.encryptedClientKey, passphrase: ca.passphrase };
        expect((await sink({ url: r.base, tls }).deliver(hospitalNotification())).outcome).to.equal('delivered');
      });

      it('a wrong passphrase is refused when the sink is made, without showing the passphrase', () => {
        const tls = { ca: ca.ca.cert, cert: ca.client.cert, key: ca.encryptedClientKey, passphrase: SECRET };
        expect(() => new RestSink({ url: 'https://127.0.0.1/fhir', tls })).to.throw(/TLS options cannot be used/).with.property('message').not.include(SECRET);
      });

      for (const [title, client] of [['no client certificate', {}], ['a client certificate from another CA', 'stranger']] as const) {
        it(`${title} is refused, and nothing reaches the receiver`, async () => {
          const r = await mtls();
          const receipt = await sink({ url: r.base, tls: { ca: ca.ca.cert, ...(client === 'stranger' ? ca.stranger : client) } }).deliver(hospitalNotification());
          expect(receipt.outcome).to.equal('transient');
          if (receipt.outcome !== 'delivered') expect(receipt.reason).to.be.oneOf(['tls', 'network']);
          expect(r.received).to.have.length(0);
        });
      }
    });

    it('a server that never completes the handshake is a connect timeout', async () => {
      const silent = net.createServer(() => undefined); // accepts TCP, never speaks TLS
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const sockets = new Set<net.Socket>();
      silent.on('connection', (socket) => sockets.add(socket));
      try {
        const { port } = silent.address() as AddressInfo;
        const receipt = await sink({ url: `https://127.0.0.1:${port}/fhir`, connectTimeoutMs: 200, tls: { ca: ca.ca.cert } }).deliver(hospitalNotification());
        expect(receipt).to.include({ outcome: 'transient', reason: 'timeout' });
        if (receipt.outcome !== 'delivered') expect(receipt.message).to.match(/no connection/);
      } finally {
        for (const socket of sockets) socket.destroy();
        silent.close();
      }
    });
  });
});
