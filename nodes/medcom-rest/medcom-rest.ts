// The `medcom-rest` config node: a municipality's (or a gateway's) FHIR endpoint. It owns the HTTP client (keep-alive
// connections, an OAuth 2.0 token), made on first use and shared by the nodes that deliver through it. Passwords,
// tokens and client secrets live in Node-RED's credentials, or in an environment variable the node names (a flow
// shipped to many machines carries no credentials, and a container gets its secrets from the environment); TLS comes
// from a tls-config node.
import type { NodeAPI, NodeDef } from 'node-red';
import { RestSink, type RestAuth, type TlsOptions, type Transport } from '../../lib/delivery';
import type { TlsConfigNode } from '../hl7-listener/hl7-listener-node';
import { Holds } from '../shared/holds';
import type { MedcomSinkNode } from '../medcom-out/medcom-sink-node';

interface MedcomRestDef extends NodeDef {
  url: string;
  target: 'process-message' | 'url';
  authType: RestAuth['type'];
  username: string;
  tokenUrl: string;
  clientId: string;
  scope: string;
  clientAuth: 'basic' | 'body';
  /** The environment variable that holds the password, token or client secret when the credential is empty. */
  secretEnv?: string;
  tls: string;
  connectTimeout: string | number;
  timeout: string | number;
}

interface Credentials {
  password?: string;
  token?: string;
  clientSecret?: string;
}

/**
 * REST has no inbox: acknowledgements come in the response, so the worker's rounds only look for overdue
 * acknowledgements and retries that fell due, for which every 10 s is plenty.
 */
const POLL_INTERVAL_MS = 10_000;

export = function (RED: NodeAPI): void {
  function MedcomRest(this: MedcomSinkNode & { credentials: Credentials }, def: MedcomRestDef): void {
    RED.nodes.createNode(this, def);
    let transport: Transport | undefined;
    this.pollIntervalMs = POLL_INTERVAL_MS;
    const credentials = this.credentials ?? {};

    const auth = (): RestAuth => {
      const variable = def.secretEnv?.trim();
      const secret = (value: string | undefined, name: string): string => {
        if (value) return value;
        if (variable && process.env[variable]) return process.env[variable]!;
        throw new Error(variable ? `the ${name} for the FHIR endpoint is not set, in its credentials or in $${variable}` : `the ${name} for the FHIR endpoint is not set`);
      };
      const required = (value: string | undefined, name: string): string => {
        if (!value) throw new Error(`the ${name} for the FHIR endpoint is not set`);
        return value;
      };
      switch (def.authType) {
        case 'basic':
          return { type: 'basic', username: required(def.username?.trim(), 'user name'), password: secret(credentials.password, 'password') };
        case 'bearer':
          return { type: 'bearer', token: secret(credentials.token, 'bearer token') };
        case 'oauth2':
          return {
            type: 'oauth2',
            tokenUrl: required(def.tokenUrl?.trim(), 'token URL'),
            clientId: required(def.clientId?.trim(), 'client id'),
            clientSecret: secret(credentials.clientSecret, 'client secret'),
            ...(def.scope?.trim() && { scope: def.scope.trim() }),
            clientAuth: def.clientAuth === 'body' ? 'body' : 'basic',
          };
        default:
          return { type: 'none' };
      }
    };

    this.transport = () => {
      if (transport) return transport;
      let tls: TlsOptions | undefined;
      if (def.tls) {
        const tlsNode = RED.nodes.getNode(def.tls) as TlsConfigNode | null;
        if (!tlsNode) throw new Error('the TLS configuration chosen for the FHIR endpoint is missing');
        // tls-config fills in ca, cert, key, passphrase and rejectUnauthorized: the RestSink's TlsOptions.
        tls = tlsNode.addTLSOptions({}) as TlsOptions;
      }
      const url = def.url?.trim();
      if (!url) throw new Error('the FHIR endpoint URL is not set');
      const sink = new RestSink({
        url,
        target: def.target === 'url' ? 'url' : 'process-message',
        auth: auth(),
        ...(tls && { tls }),
        connectTimeoutMs: Math.max(1, Number(def.connectTimeout) || 10) * 1000,
        timeoutMs: Math.max(1, Number(def.timeout) || 60) * 1000,
      });
      transport = { kind: 'rest', sink };
      return transport;
    };

    const holds = new Holds();
    this.hold = () => holds.take();

    this.on('close', (done: () => void) => {
      void holds.released().then(async () => {
        const closing = transport;
        transport = undefined;
        await closing?.sink.close();
        done();
      });
    });
  }
  RED.nodes.registerType('medcom-rest', MedcomRest as never, {
    credentials: { password: { type: 'password' }, token: { type: 'password' }, clientSecret: { type: 'password' } },
  });
};
