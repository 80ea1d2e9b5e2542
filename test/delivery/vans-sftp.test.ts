// The VANS drop over SFTP, against an in-process SFTP server: envelopes appear whole under the folder drop's names,
// over one kept connection that parallel deliveries share and that is opened again when it was lost; the server must
// show the configured host key; every failure is a transient receipt that says why and holds no secret; the inbox is
// read as the folder inbox is.
import { expect } from 'chai';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { SftpConnection, VansSftpInbox, VansSftpSink, type InboxFile, type SftpConnectionOptions } from '../../lib/delivery';
import { AT, envelope } from '../support/vans-drop';
import { startSftpServer, type SftpTestServer } from '../support/sftp-server';


describe('delivery: VANS over SFTP', () => {
  let server: SftpTestServer;
  let outbox: string;
  const closing: { close(): Promise<void> }[] = [];

  const login = (extra: Partial<SftpConnectionOptions> = {}): SftpConnectionOptions => ({
    host: server.host,
    port: server.port,
    username: server.username,
    password: server.password,
    hostKeys: [server.fingerprint],
    ...extra,
  });
  const sinkFor = (extra: Partial<SftpConnectionOptions> = {}, dir = '/out'): VansSftpSink => {
    const sink = new VansSftpSink({ connection: new SftpConnection(login(extra)), dir, now: () => AT });
    closing.push(sink);
    return sink;
  };
  const files = (dir = outbox) => fs.readdirSync(dir).sort();

  beforeEach(async () => {
    server = await startSftpServer();
    outbox = path.join(server.root, 'out');
    fs.mkdirSync(outbox);
  });
  afterEach(async () => {
    await Promise.all(closing.splice(0).map((c) => c.close()));
    await server.close();
  });

  describe('outbox', () => {
    it('writes the envelope whole under <UTC time><sequence>-<MessageHeader.id>.xml, fsynced and renamed, no temporary file left', async () => {
      const message = envelope('f0e1d2c3-b4a5-4968-8776-655443322110', 300_000); // several SFTP write requests
      expect(await sinkFor().deliver(message)).to.deep.equal({ outcome: 'delivered' });
      expect(files()).to.deep.equal(['20250311T070002123000-f0e1d2c3-b4a5-4968-8776-655443322110.xml']);
      expect(fs.readFileSync(path.join(outbox, files()[0]), 'utf8')).to.equal(message.body);
      expect(server.extended).to.deep.equal({ 'fsync@openssh.com': 1, 'posix-rename@openssh.com': 1 });
    });

    it('a server without OpenSSH\'s extensions gets a plain SFTP rename and no fsync', async () => {
      await server.close();
      server = await startSftpServer({ extensions: false });
      outbox = path.join(server.root, 'out');
      fs.mkdirSync(outbox);
      expect(await sinkFor().deliver(envelope('a'))).to.deep.equal({ outcome: 'delivered' });
      expect(files()).to.deep.equal(['20250311T070002123000-a.xml']);
      expect(server.extended).to.deep.equal({});
    });

    it('names are unique and sort in delivery order, as the folder drop names them', async () => {
      const sink = sinkFor();
      const ids = ['c-third-name-first', 'b', 'a'];
      for (const id of ids) expect((await sink.deliver(envelope(id))).outcome).to.equal('delivered');
      expect(files()).to.deep.equal(['20250311T070002123000-c-third-name-first.xml', '20250311T070002123001-b.xml', '20250311T070002123002-a.xml']);
      expect(await sink.deliver(envelope('../escape'))).to.include({ outcome: 'permanent', reason: 'message' });
    });

    it('parallel deliveries share one connection and each file arrives whole', async () => {
      const sink = sinkFor();
      const messages = Array.from({ length: 24 }, (_, i) => envelope(`m${String(i).padStart(2, '0')}`, 50_000 + i));
      const receipts = await Promise.all(messages.map((m) => sink.deliver(m)));
      expect(receipts.every((r) => r.outcome === 'delivered')).to.equal(true);
      expect(server.logins).to.equal(1);
      const written = files();
      expect(written).to.have.length(24);
      for (const message of messages) {
        const name = written.find((n) => n.endsWith(`-${message.messageHeaderId}.xml`))!;
        expect(fs.readFileSync(path.join(outbox, name), 'utf8')).to.equal(message.body);
      }
    });

    it('logs in with a private key and its passphrase', async () => {
      const sink = sinkFor({ password: undefined, ...server.clientKey });
      expect(await sink.deliver(envelope('a'))).to.deep.equal({ outcome: 'delivered' });
    });

    it('a refused password is a transient auth failure that names the user, not the password', async () => {
      const receipt = await sinkFor({ password: 'wrong-password' }).deliver(envelope('a'));
      expect(receipt).to.include({ outcome: 'transient', reason: 'auth' });
      expect(receipt.outcome !== 'delivered' && receipt.message).to.equal(`sftp://127.0.0.1:${server.port} refused the password of user region`);
      expect(files()).to.deep.equal([]);
    });

    it('refuses a server whose host key is not the configured one, naming the key it showed', async () => {
      const other = 'SHA256:' + 'A'.repeat(43);
      const receipt = await sinkFor({ hostKeys: [other] }).deliver(envelope('a'));
      expect(receipt).to.include({ outcome: 'transient', reason: 'host-key' });
      const message = receipt.outcome !== 'delivered' ? receipt.message : '';
      expect(message).to.include(`presented the host key ${server.fingerprint}, not the configured ${other}`);
      expect(server.logins, 'no credentials were sent').to.equal(0);
      expect(files()).to.deep.equal([]);
    });

    it('accepts any of several configured fingerprints, written as ssh-keygen -lf prints them', async () => {
      const sink = sinkFor({ hostKeys: ['SHA256:' + 'B'.repeat(43), ` ${server.fingerprint}= `] });
      expect(await sink.deliver(envelope('a'))).to.deep.equal({ outcome: 'delivered' });
    });

    it('refuses a configuration it cannot use, naming the setting', () => {
      expect(() => new SftpConnection(login({ hostKeys: [] }))).to.throw('no host key fingerprint is set');
      expect(() => new SftpConnection(login({ hostKeys: ['ab:cd:ef'] }))).to.throw('"ab:cd:ef" is not SHA256:<base64>');
      expect(() => new SftpConnection(login({ password: undefined }))).to.throw('no password or private key is set');
      expect(() => new SftpConnection(login({ privateKey: server.clientKey.privateKey, passphrase: 'wrong' }))).to.throw('the private key for sftp://127.0.0.1');
    });

    it('a server that is down is a transient network failure; once it is up again the next delivery gets through', async () => {
      const sink = sinkFor();
      await server.stop();
      const receipt = await sink.deliver(envelope('a'));
      expect(receipt).to.include({ outcome: 'transient', reason: 'network' });
      await server.start();
      expect(await sink.deliver(envelope('b'))).to.deep.equal({ outcome: 'delivered' });
      expect(files()).to.deep.equal(['20250311T070002123001-b.xml']);
    });

    it('a connection the server dropped between deliveries is opened again for the next one', async () => {
      const sink = sinkFor();
      expect((await sink.deliver(envelope('a'))).outcome).to.equal('delivered');
      server.dropConnections();
      expect(await sink.deliver(envelope('b'))).to.deep.equal({ outcome: 'delivered' });
      expect(server.logins).to.equal(2);
      expect(files()).to.have.length(2);
    });

    it('a server that sends nothing is a timeout, not a hang', async () => {
      const silent = net.createServer(() => undefined).listen(0, '127.0.0.1');
      await once(silent, 'listening');
      try {
        const port = (silent.address() as net.AddressInfo).port;
        const receipt = await sinkFor({ port, connectTimeoutMs: 50 }).deliver(envelope('a'));
        expect(receipt).to.include({ outcome: 'transient', reason: 'timeout' });
      } finally {
        silent.close();
      }
    });

    it('a request the server does not answer ends the connection as a timeout; the next delivery opens a new one', async () => {
      const sink = sinkFor({ timeoutMs: 1_000 }); // long enough for every answer the server does give
      server.holdWrites = true;
      const receipt = await sink.deliver(envelope('a'));
      expect(receipt).to.include({ outcome: 'transient', reason: 'timeout' });
      server.holdWrites = false;
      expect(await sink.deliver(envelope('b'))).to.deep.equal({ outcome: 'delivered' });
      expect(server.logins).to.equal(2);
      expect(files()).to.deep.equal(['20250311T070002123001-b.xml']);
    });

    it('a missing outbox folder is a transient io failure and is not created', async () => {
      const receipt = await sinkFor({}, '/vans/out').deliver(envelope('a'));
      expect(receipt).to.include({ outcome: 'transient', reason: 'io' });
      expect(receipt.outcome !== 'delivered' && receipt.message).to.match(/cannot write 20250311T070002123000-a\.xml into the VANS outbox sftp:\/\/127\.0\.0\.1:\d+\/vans\/out: /);
      expect(fs.existsSync(path.join(server.root, 'vans'))).to.equal(false);
    });

    it('a server that refuses the write is a transient io failure', async () => {
      server.refuseWrites = true;
      expect(await sinkFor().deliver(envelope('a'))).to.include({ outcome: 'transient', reason: 'io' });
      server.refuseWrites = false;
      expect(files()).to.deep.equal([]);
    });

    it('a failed rename leaves no temporary file and nothing under the final name', async () => {
      const blocker = path.join(outbox, '20250311T070002123000-f0e1d2c3.xml');
      fs.mkdirSync(blocker);
      fs.writeFileSync(path.join(blocker, 'keep'), '');
      const receipt = await sinkFor().deliver(envelope('f0e1d2c3'));
      expect(receipt).to.include({ outcome: 'transient', reason: 'io' });
      expect(files()).to.deep.equal([path.basename(blocker)]);
      expect(fs.readdirSync(blocker)).to.deep.equal(['keep']);
    });

    it('closing ends the deliveries in flight as transient failures, and later ones too', async () => {
      const sink = sinkFor();
      server.holdWrites = true;
      const held = once(server.events, 'held');
      const delivering = sink.deliver(envelope('a'));
      await held;
      await sink.close();
      expect(await delivering).to.include({ outcome: 'transient', reason: 'network' });
      expect(await sink.deliver(envelope('b'))).to.include({ outcome: 'transient', reason: 'network' });
    });
  });

  describe('inbox', () => {
    let inboxDir: string;
    const write = (name: string, content = `<Receipt>${name}</Receipt>`) => fs.writeFileSync(path.join(inboxDir, name), content);
    const list = (sub = '') => fs.readdirSync(path.join(inboxDir, sub)).filter((n) => !fs.lstatSync(path.join(inboxDir, sub, n)).isDirectory()).sort();
    const inboxFor = (dir = '/in'): VansSftpInbox => {
      const connection = new SftpConnection(login());
      closing.push(connection);
      return new VansSftpInbox({ connection, dir });
    };

    beforeEach(() => {
      inboxDir = path.join(server.root, 'in');
      fs.mkdirSync(inboxDir);
    });

    it('hands each finished file over, oldest name first, and moves it to processed/ or failed/', async () => {
      write('002.xml');
      write('001.xml');
      write('003.xml', 'not xml');
      write('.004.xml.tmp'); // still being written by the VANS client
      write('005.xml.part');
      const seen: InboxFile[] = [];
      const result = await inboxFor().poll((file) => {
        seen.push(file);
        return file.content.toString().startsWith('<') ? 'processed' : 'failed';
      });
      expect(seen.map((f) => [f.name, f.path])).to.deep.equal([
        ['001.xml', '/in/001.xml'],
        ['002.xml', '/in/002.xml'],
        ['003.xml', '/in/003.xml'],
      ]);
      expect(seen[0].content.toString()).to.equal('<Receipt>001.xml</Receipt>');
      expect(result).to.deep.equal({ processed: ['001.xml', '002.xml'], failed: ['003.xml'] });
      expect(list('processed')).to.deep.equal(['001.xml', '002.xml']);
      expect(list('failed')).to.deep.equal(['003.xml']);
      expect(list()).to.deep.equal(['.004.xml.tmp', '005.xml.part']);
    });

    it('a handler that throws leaves its file for the next poll; a name that comes again keeps the earlier file', async () => {
      write('a.xml', 'first');
      write('b.xml');
      const inbox = inboxFor();
      let storeDown = true;
      const handle = (file: InboxFile) => {
        if (file.name === 'b.xml' && storeDown) throw new Error('store unavailable');
      };
      let error: unknown;
      await inbox.poll(handle).catch((e: unknown) => (error = e));
      expect((error as Error).message).to.equal('store unavailable');
      expect(list()).to.deep.equal(['b.xml']);
      storeDown = false;
      write('a.xml', 'second');
      expect(await inbox.poll(handle)).to.deep.equal({ processed: ['a.xml', 'b.xml'], failed: [] });
      expect(list('processed')).to.deep.equal(['a.xml', 'a.xml.1', 'b.xml']);
      expect(fs.readFileSync(path.join(inboxDir, 'processed', 'a.xml'), 'utf8')).to.equal('first');
    });

    it('polls called together hand each file over once', async () => {
      for (let i = 0; i < 12; i++) write(`${String(i).padStart(2, '0')}.xml`);
      const inbox = inboxFor();
      const seen: string[] = [];
      await Promise.all([inbox.poll((f) => void seen.push(f.name)), inbox.poll((f) => void seen.push(f.name))]);
      expect(seen).to.have.length(12);
      expect(new Set(seen).size).to.equal(12);
    });

    it('a missing inbox folder makes the poll fail with a message that names it', async () => {
      let error: unknown;
      await inboxFor('/nowhere').poll(() => undefined).catch((e: unknown) => (error = e));
      expect((error as Error).message).to.equal(`the VANS inbox sftp://127.0.0.1:${server.port}/nowhere does not exist`);
    });

    it('shares the sink\'s connection', async () => {
      const connection = new SftpConnection(login());
      const sink = new VansSftpSink({ connection, dir: '/out', now: () => AT });
      closing.push(sink);
      write('ack.xml');
      expect((await sink.deliver(envelope('a'))).outcome).to.equal('delivered');
      expect(await new VansSftpInbox({ connection, dir: '/in' }).poll(() => undefined)).to.deep.equal({ processed: ['ack.xml'], failed: [] });
      expect(server.logins).to.equal(1);
    });
  });
});
