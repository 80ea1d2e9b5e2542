// The VANS file drop: envelopes appear in the outbox whole or not at all, under unique names in sending order, and
// failures leave no debris; the inbox hands every file over once, moves it to processed/ or failed/, and a reader
// started again (after a restart) does not read anything twice.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VansFolderSink, VansInbox, type InboxFile } from '../../lib/delivery';
import { AT, envelope } from '../support/vans-drop';


describe('delivery: VANS folder', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-vans-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('outbox', () => {
    it('writes the envelope under <UTC time><sequence>-<MessageHeader.id>.xml and reports it delivered', async () => {
      const message = envelope('f0e1d2c3-b4a5-4968-8776-655443322110');
      const receipt = await new VansFolderSink({ dir, now: () => AT }).deliver(message);
      expect(receipt).to.deep.equal({ outcome: 'delivered' });
      expect(fs.readdirSync(dir)).to.deep.equal(['20250311T070002123000-f0e1d2c3-b4a5-4968-8776-655443322110.xml']);
      expect(fs.readFileSync(path.join(dir, fs.readdirSync(dir)[0]), 'utf8')).to.equal(message.body);
    });

    it('creates each envelope (it holds the CPR number) for this user only, 0600, or 0640 for the VANS client\'s group, whatever the umask', async () => {
      const previous = process.umask(0o000);
      try {
        await new VansFolderSink({ dir, now: () => AT }).deliver(envelope('m-private'));
        const gid = process.getgid!();
        const shared = path.join(dir, 'shared');
        fs.mkdirSync(shared);
        await new VansFolderSink({ dir: shared, now: () => AT, group: gid }).deliver(envelope('m-group'));
        const stat = (folder: string) => fs.statSync(path.join(folder, fs.readdirSync(folder).find((f) => f.endsWith('.xml'))!));
        expect(stat(dir).mode & 0o777).to.equal(0o600);
        expect(stat(shared).mode & 0o777).to.equal(0o640);
        expect(stat(shared).gid).to.equal(gid);
      } finally {
        process.umask(previous);
      }
    });

    it('names are unique and sort in delivery order, within one millisecond and when the clock steps back', async () => {
      let now = AT;
      const sink = new VansFolderSink({ dir, now: () => now });
      const ids = ['c-third-name-first', 'b', 'a', 'z'];
      for (const [i, id] of ids.entries()) {
        if (i === 3) now = AT - 60_000; // a clock correction backwards
        await sink.deliver(envelope(id));
      }
      const names = fs.readdirSync(dir).sort();
      expect(names.map((n) => n.replace(/^\d{8}T\d{12}-/, '').replace(/\.xml$/, ''))).to.deep.equal(ids);
      expect(names.map((n) => n.slice(0, 21))).to.deep.equal(['20250311T070002123000', '20250311T070002123001', '20250311T070002123002', '20250311T070002123003']);
    });

    it('a sink made after a restart continues after the names already written', async () => {
      await new VansFolderSink({ dir, now: () => AT }).deliver(envelope('before'));
      await new VansFolderSink({ dir, now: () => AT + 1 }).deliver(envelope('after'));
      expect(fs.readdirSync(dir).sort().map((n) => n.split('-')[1])).to.deep.equal(['before.xml', 'after.xml']);
    });

    it('refuses a MessageHeader.id that is not a plain name, and writes nothing', async () => {
      const sink = new VansFolderSink({ dir, now: () => AT });
      for (const id of ['../escape', 'a/b', '.hidden', '']) {
        expect(await sink.deliver(envelope(id))).to.include({ outcome: 'permanent', reason: 'message' });
      }
      expect(fs.readdirSync(dir)).to.deep.equal([]);
    });

    it('the final name only ever appears by rename: the VANS client never sees a file being written', async () => {
      const sink = new VansFolderSink({ dir, now: () => AT });
      const events: { type: string; name: string }[] = [];
      const watcher = fs.watch(dir, (type, name) => events.push({ type, name: String(name) }));
      try {
        const messages = Array.from({ length: 5 }, (_, i) => envelope(`m${i}`, 1_000_000));
        for (const message of messages) expect((await sink.deliver(message)).outcome).to.equal('delivered');
        const finals = fs.readdirSync(dir);
        expect(finals).to.have.length(5);
        // inotify reports in order: once every final name has shown up, every event before it has been seen
        while (!finals.every((n) => events.some((e) => e.name === n))) await new Promise((resolve) => setImmediate(resolve));
        expect(events.filter((e) => !e.name.endsWith('.tmp')).map((e) => e.type)).to.deep.equal(Array(5).fill('rename'));
        expect(events.some((e) => e.type === 'change' && e.name.endsWith('.tmp')), 'the writes to the temporary files were seen').to.equal(true);
        for (const [i, name] of finals.sort().entries()) expect(fs.readFileSync(path.join(dir, name), 'utf8')).to.equal(messages[i].body);
      } finally {
        watcher.close();
      }
    });

    it('a failed rename leaves no temporary file and nothing under the final name', async () => {
      // A folder already standing under the final name makes the rename fail after the data was written.
      const blocker = path.join(dir, '20250311T070002123000-f0e1d2c3.xml');
      fs.mkdirSync(blocker);
      fs.writeFileSync(path.join(blocker, 'keep'), '');
      const receipt = await new VansFolderSink({ dir, now: () => AT }).deliver(envelope('f0e1d2c3'));
      expect(receipt).to.include({ outcome: 'transient', reason: 'io' });
      expect(fs.readdirSync(dir)).to.deep.equal([path.basename(blocker)]);
      expect(fs.readdirSync(blocker)).to.deep.equal(['keep']);
    });

    it('a missing outbox folder is a transient failure and is not created (an unmounted share must not fill the local disk)', async () => {
      const missing = path.join(dir, 'vans', 'out');
      const receipt = await new VansFolderSink({ dir: missing }).deliver(envelope('x'));
      expect(receipt).to.include({ outcome: 'transient', reason: 'io' });
      expect(fs.existsSync(missing)).to.equal(false);
    });
  });

  describe('inbox', () => {
    const write = (name: string, content = `<Receipt>${name}</Receipt>`) => fs.writeFileSync(path.join(dir, name), content);
    const list = (sub = '') => fs.readdirSync(path.join(dir, sub)).filter((n) => !fs.lstatSync(path.join(dir, sub, n)).isDirectory()).sort();

    it('hands each finished file over, oldest name first, and moves it to processed/', async () => {
      write('002.xml');
      write('001.xml');
      write('.003.xml.tmp'); // still being written by the VANS client
      write('004.xml.part');
      const seen: InboxFile[] = [];
      const result = await new VansInbox({ dir }).poll((file) => void seen.push(file));
      expect(seen.map((f) => f.name)).to.deep.equal(['001.xml', '002.xml']);
      expect(seen[0].content.toString()).to.equal('<Receipt>001.xml</Receipt>');
      expect(result).to.deep.equal({ processed: ['001.xml', '002.xml'], failed: [] });
      expect(list('processed')).to.deep.equal(['001.xml', '002.xml']);
      expect(list()).to.deep.equal(['.003.xml.tmp', '004.xml.part']);
    });

    it('moves a file the handler cannot use to failed/, and one that cannot be read at all', async () => {
      write('ack.xml', '<Bundle/>');
      write('garbage.xml', 'not xml');
      fs.mkdirSync(path.join(dir, 'elsewhere'));
      fs.symlinkSync(path.join(dir, 'elsewhere'), path.join(dir, 'link.xml')); // reading it fails (a folder)
      const result = await new VansInbox({ dir }).poll((file) => (file.content.toString().startsWith('<') ? 'processed' : 'failed'));
      expect(result).to.deep.equal({ processed: ['ack.xml'], failed: ['garbage.xml', 'link.xml'] });
      expect(list('failed')).to.deep.equal(['garbage.xml', 'link.xml']);
      expect(list('processed')).to.deep.equal(['ack.xml']);
    });

    it('a handler that throws leaves its file for the next poll; files before it are done', async () => {
      write('a.xml');
      write('b.xml');
      write('c.xml');
      const inbox = new VansInbox({ dir });
      let storeDown = true;
      const handle = (file: InboxFile) => {
        if (file.name === 'b.xml' && storeDown) throw new Error('store unavailable');
      };
      let error: unknown;
      await inbox.poll(handle).catch((e: unknown) => (error = e));
      expect((error as Error).message).to.equal('store unavailable');
      expect(list()).to.deep.equal(['b.xml', 'c.xml']);
      storeDown = false;
      expect(await inbox.poll(handle)).to.deep.equal({ processed: ['b.xml', 'c.xml'], failed: [] });
    });

    it('after a restart a new reader hands over only files that came since', async () => {
      write('1.xml');
      const seen: string[] = [];
      await new VansInbox({ dir }).poll((f) => void seen.push(f.name));
      write('2.xml');
      await new VansInbox({ dir }).poll((f) => void seen.push(f.name));
      await new VansInbox({ dir }).poll((f) => void seen.push(f.name));
      expect(seen).to.deep.equal(['1.xml', '2.xml']);
      expect(list('processed')).to.deep.equal(['1.xml', '2.xml']);
    });

    it('a name that comes again keeps the earlier processed file', async () => {
      const inbox = new VansInbox({ dir });
      write('receipt.xml', 'first');
      await inbox.poll(() => undefined);
      write('receipt.xml', 'second');
      await inbox.poll(() => undefined);
      expect(list('processed')).to.deep.equal(['receipt.xml', 'receipt.xml.1']);
      expect(fs.readFileSync(path.join(dir, 'processed', 'receipt.xml'), 'utf8')).to.equal('first');
    });

    it('polls called together hand each file over once', async () => {
      for (let i = 0; i < 20; i++) write(`${String(i).padStart(2, '0')}.xml`);
      const inbox = new VansInbox({ dir });
      const seen: string[] = [];
      const handle = async (f: InboxFile) => {
        await new Promise((resolve) => setImmediate(resolve));
        seen.push(f.name);
      };
      await Promise.all([inbox.poll(handle), inbox.poll(handle), inbox.poll(handle)]);
      expect(seen).to.have.length(20);
      expect(new Set(seen).size).to.equal(20);
    });
  });
});
