// A throw-away certificate authority for TLS tests: a CA, a server certificate for localhost/127.0.0.1, a client
// certificate (also with its key encrypted under a passphrase), and a client certificate from a second CA that the
// server does not trust. Made with the openssl command line, which Debian and the CI machine carry, rather than an
// npm package: Node's crypto makes keys but not X.509 certificates.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface KeyPair {
  cert: string;
  key: string;
}

export interface TestCa {
  ca: KeyPair;
  server: KeyPair;
  client: KeyPair;
  /** The client's key encrypted with `passphrase`. */
  encryptedClientKey: string;
  passphrase: string;
  /** A client certificate signed by another CA. */
  stranger: KeyPair;
}

function openssl(cwd: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function authority(dir: string, name: string): void {
  openssl(dir, 'req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${name}`, '-days', '2');
}

function leaf(dir: string, name: string, ca: string, extensions: string): void {
  fs.writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(dir, 'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`,
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
}

export function makeTestCa(): TestCa {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-ca-'));
  try {
    authority(dir, 'advis-test-ca');
    authority(dir, 'other-ca');
    leaf(dir, 'server', 'advis-test-ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    leaf(dir, 'client', 'advis-test-ca', 'extendedKeyUsage=clientAuth\n');
    leaf(dir, 'stranger', 'other-ca', 'extendedKeyUsage=clientAuth\n');
    const passphrase = 'correct horse battery staple';
    openssl(dir, 'pkcs8', '-topk8', '-in', 'client.key', '-out', 'client-encrypted.key', '-v2', 'aes-256-cbc', '-passout', `pass:${passphrase}`);
    const read = (file: string): string => fs.readFileSync(path.join(dir, file), 'utf8');
    const pair = (name: string): KeyPair => ({ cert: read(`${name}.crt`), key: read(`${name}.key`) });
    return {
      ca: pair('advis-test-ca'),
      server: pair('server'),
      client: pair('client'),
      encryptedClientKey: read('client-encrypted.key'),
      passphrase,
      stranger: pair('stranger'),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
