// The Node-RED settings `npm start` and the container make from the environment: the people who may log in, with
// their permissions, and the scraper's token; each wrong value refused with a sentence that names it.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nodeRedSettings, SettingsError, thisMachineOnly } from '../../bin/node-red-settings';
import { bcryptHash } from '../support/runtime';

describe('Node-RED settings from the environment', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-settings-'));
  const usersFile = (users: unknown): string => {
    const file = path.join(dir, `users-${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(file, JSON.stringify(users));
    return file;
  };
  const hash = bcryptHash('pass');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('adds the users of ADVIS_ADMIN_USERS_FILE, with their permissions, beside the administrator', () => {
    const file = usersFile([
      { username: 'night', password: hash, permissions: 'read' },
      { username: 'clerk', password: hash, permissions: ['read', 'advis.read-personal'] },
    ]);
    const auth = nodeRedSettings({ ADVIS_ADMIN_USER: 'admin', ADVIS_ADMIN_PASSWORD_HASH: hash, ADVIS_ADMIN_USERS_FILE: file }).adminAuth!;
    expect(auth.users.map((u) => [u.username, u.permissions])).to.deep.equal([
      ['admin', '*'],
      ['night', 'read'],
      ['clerk', ['read', 'advis.read-personal']],
    ]);
    expect(nodeRedSettings({ ADVIS_ADMIN_USERS_FILE: file }).adminAuth!.users).to.have.length(2);
  });

  it('refuses a users file that is not a list of users with bcrypt hashes and permissions', () => {
    const refused = (users: unknown) => () => nodeRedSettings({ ADVIS_ADMIN_USERS_FILE: usersFile(users) });
    expect(refused([{ username: 'a', password: 'plain', permissions: 'read' }])).to.throw(SettingsError, 'user 1: "password" must be a bcrypt hash');
    expect(refused([{ username: 'a', password: hash }])).to.throw(SettingsError, 'user 1: "permissions" must be "*", "read" or a list of scopes');
    expect(refused([{ password: hash, permissions: 'read' }])).to.throw(SettingsError, 'user 1: "username" is missing');
    expect(refused([])).to.throw(SettingsError, 'must hold a list of users');
    expect(() => nodeRedSettings({ ADVIS_ADMIN_USERS_FILE: path.join(dir, 'none.json') })).to.throw(SettingsError, 'cannot be read as JSON');
  });

  it('gives the monitor token advis.read only, compared whole, and refuses a short one or one without adminAuth', async () => {
    const token = 'a'.repeat(40);
    const auth = nodeRedSettings({ ADVIS_ADMIN_USER: 'admin', ADVIS_ADMIN_PASSWORD_HASH: hash, ADVIS_MONITOR_TOKEN: token }).adminAuth!;
    expect(await auth.tokens!(token)).to.deep.equal({ username: 'advis-monitor-token', permissions: ['advis.read'] });
    expect(await auth.tokens!('a'.repeat(39))).to.equal(null);
    expect(await auth.tokens!(`${token}b`)).to.equal(null);
    expect(() => nodeRedSettings({ ADVIS_ADMIN_USER: 'admin', ADVIS_ADMIN_PASSWORD_HASH: hash, ADVIS_MONITOR_TOKEN: 'short' })).to.throw(SettingsError, 'at least 32 characters');
    expect(() => nodeRedSettings({ ADVIS_MONITOR_TOKEN: token })).to.throw(SettingsError, 'ADVIS_MONITOR_TOKEN needs adminAuth');
    expect(nodeRedSettings({}).adminAuth).to.equal(undefined);
  });

  it("keeps the flows' HTTP endpoints to this machine when Node-RED listens beyond it, unless they have a login of their own", () => {
    const admin = { ADVIS_ADMIN_USER: 'admin', ADVIS_ADMIN_PASSWORD_HASH: hash };
    const open = nodeRedSettings({ ...admin, ADVIS_HOST: '0.0.0.0' });
    expect(open.httpNodeMiddleware).to.equal(thisMachineOnly);
    const answer = (remoteAddress: string) => {
      const got = { status: 0, body: '', passed: false };
      const res = { status: (c: number) => ((got.status = c), res), type: () => res, send: (b: string) => void (got.body = b) };
      thisMachineOnly({ socket: { remoteAddress } }, res, () => (got.passed = true));
      return got;
    };
    expect(answer('192.0.2.10')).to.include({ status: 403, passed: false });
    expect(answer('192.0.2.10').body).to.include('ADVIS_HTTP_USER and ADVIS_HTTP_PASSWORD_HASH');
    expect(answer('fd00::2')).to.include({ status: 403 });
    for (const local of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect(answer(local), local).to.include({ passed: true, status: 0 });

    const login = nodeRedSettings({ ...admin, ADVIS_HOST: '0.0.0.0', ADVIS_HTTP_USER: 'epr', ADVIS_HTTP_PASSWORD_HASH: hash });
    expect(login.httpNodeAuth).to.deep.equal({ user: 'epr', pass: hash });
    expect(login.httpNodeMiddleware).to.equal(undefined);
    expect(nodeRedSettings({}).httpNodeMiddleware).to.equal(undefined);
    expect(() => nodeRedSettings({ ADVIS_HTTP_USER: 'epr', ADVIS_HTTP_PASSWORD_HASH: 'plain' })).to.throw(SettingsError, 'ADVIS_HTTP_PASSWORD_HASH must be a bcrypt hash');
    expect(() => nodeRedSettings({ ADVIS_HTTP_USER: 'epr' })).to.throw(SettingsError, 'go together');
  });

  it('sets the log level from ADVIS_LOG_LEVEL, info by default, and names the levels for a wrong one', () => {
    expect(nodeRedSettings({}).logging.console.level).to.equal('info');
    expect(nodeRedSettings({ ADVIS_LOG_LEVEL: 'debug' }).logging.console.level).to.equal('debug');
    expect(() => nodeRedSettings({ ADVIS_LOG_LEVEL: 'loud' })).to.throw(SettingsError, 'ADVIS_LOG_LEVEL is one of fatal, error, warn, info, debug, trace, not "loud"');
  });
});
