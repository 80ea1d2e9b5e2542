// A loopback TCP port that was free a moment ago, for servers whose configuration needs the number up front. The
// system may hand the same number out again once it is closed, so a test that asks twice (an HTTP and an MLLP port)
// could be given one port for both: this process never gets the same number twice.
import * as net from 'node:net';

const given = new Set<number>();

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
      server.on('error', reject);
    });
    if (!given.has(port)) {
      given.add(port);
      return port;
    }
  }
}
