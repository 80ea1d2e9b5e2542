// The group commit on its own (lib/delivery/group-commit.ts), with a transaction that records what it was given.
import { expect } from 'chai';
import { GroupCommit } from '../../lib/delivery/group-commit';

describe('delivery: group commit', () => {
  let transactions: number;
  let onTheWay: number;
  let published: string[];
  let failTransaction: boolean;
  const group = () =>
    new GroupCommit<string, string>({
      transaction: async (work) => {
        transactions++;
        await work('tx');
        if (failTransaction) throw new Error('disk full');
      },
      onTheWay: () => onTheWay,
      waitMs: 20,
      publish: (e) => published.push(e),
    });

  beforeEach(() => {
    transactions = 0;
    onTheWay = 0;
    published = [];
    failTransaction = false;
  });

  it('commits a write at once when nothing else is on its way', async () => {
    const g = group();
    await g.run(async (_tx, emit) => emit('a'));
    expect([transactions, published]).to.deep.equal([1, ['a']]);
  });

  it('lets writes that finish while others are on their way share one transaction', async () => {
    const g = group();
    onTheWay = 2;
    const first = g.run(async (_tx, emit) => emit('a'));
    await new Promise((r) => setTimeout(r, 5));
    const second = g.run(async (_tx, emit) => emit('b'));
    await Promise.all([first, second]);
    expect([transactions, published]).to.deep.equal([1, ['a', 'b']]);
  });

  it('holds the events of a group until its transaction is done, and drops those of a write that failed', async () => {
    const g = group();
    onTheWay = 1;
    const seenDuring: string[][] = [];
    const ok = g.run(async (_tx, emit) => {
      emit('a');
      seenDuring.push([...published]);
    });
    const bad = g.run(async (_tx, emit) => {
      emit('lost');
      throw new Error('constraint');
    });
    await ok;
    await bad.then(
      () => expect.fail('the failed write resolved'),
      (error: Error) => expect(error.message).to.equal('constraint'),
    );
    expect([transactions, seenDuring, published]).to.deep.equal([1, [[]], ['a']]);
  });

  it('rejects every write of a group whose transaction failed, and publishes none of their events', async () => {
    const g = group();
    failTransaction = true;
    const results = await Promise.allSettled([g.run(async (_tx, emit) => emit('a'))]);
    expect(results.map((r) => r.status)).to.deep.equal(['rejected']);
    expect(published).to.deep.equal([]);
  });

  it('hands each write the transaction', async () => {
    const g = group();
    const seen: string[] = [];
    await g.run(async (tx) => void seen.push(tx));
    expect(seen).to.deep.equal(['tx']);
  });
});
