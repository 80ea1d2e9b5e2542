// The `medcom-rest` config node: a municipality's (or a gateway's) FHIR endpoint. It owns the HTTP client (keep-alive
// connections, an OAuth 2.0 token), made on first use and shared by the nodes that deliver through it. Passwords,
// tokens and client secrets live in Node-RED's credentials, or in an environment variable the node names (a flow
// shipped to many machines carries no credentials, and a container gets its secrets from the environment); TLS comes
// from a tls-config node.
import type { NodeAPI, NodeDef } from 'node-red';
import { RestSink, type RestAuth, type TlsOptions } from '../../lib/delivery';
import type { MedcomSinkNode } from '../medcom-out/medcom-sink-node';
import { CatalogError, translator } from '../shared/errors';
import { setting, tlsOptions } from '../shared/settings';
import { ownTransport } from '../shared/sink';

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
    this.pollIntervalMs = POLL_INTERVAL_MS;
    const credentials = this.credentials ?? {};
    const t = translator(RED);
    const label = (field: string) => RED._(`medcom-rest.label.${field}`);

    const auth = (): RestAuth => {
      const variable = def.secretEnv?.trim();
      const secret = (value: string | undefined, field: string): string => {
        if (value) return value;
        if (variable && process.env[variable]) return process.env[variable]!;
        throw new CatalogError(variable ? 'medcom-rest.errors.secret' : 'medcom-rest.errors.missing', { name: label(field), ...(variable && { variable }) }, t);
      };
      const required = (value: string | undefined, field: string): string => setting(t, value, label(field));
      switch (def.authType) {
        case 'basic':
          return { type: 'basic', username: required(def.username, 'username'), password: secret(credentials.password, 'password') };
        case 'bearer':
          return { type: 'bearer', token: secret(credentials.token, 'token') };
        case 'oauth2':
          return {
            type: 'oauth2',
            tokenUrl: required(def.tokenUrl, 'tokenUrl'),
            clientId: required(def.clientId, 'clientId'),
            clientSecret: secret(credentials.clientSecret, 'clientSecret'),
            ...(def.scope?.trim() && { scope: def.scope.trim() }),
            clientAuth: def.clientAuth === 'body' ? 'body' : 'basic',
          };
        default:
          return { type: 'none' };
      }
    };

    ownTransport(this, () => {
      // tls-config fills in ca, cert, key, passphrase and rejectUnauthorized: the RestSink's TlsOptions.
      const tls = tlsOptions(RED, t, def.tls) as TlsOptions | undefined;
      // The operator turned the check of the receiver's certificate off (the tls-config node): anyone on the path could
      // receive the notifications. Allowed, for a test receiver, but said at every start.
      if (tls?.rejectUnauthorized === false) this.warn(RED._('medcom-rest.warn.unverified', { url: def.url }));
      const sink = new RestSink({
        url: setting(t, def.url, label('url')),
        target: def.target === 'url' ? 'url' : 'process-message',
        auth: auth(),
        ...(tls && { tls }),
        connectTimeoutMs: Math.max(1, Number(def.connectTimeout) || 10) * 1000,
        timeoutMs: Math.max(1, Number(def.timeout) || 60) * 1000,
      });
      return { kind: 'rest', sink };
    });
  }
  RED.nodes.registerType('medcom-rest', MedcomRest as never, {
    credentials: { password: { type: 'password' }, token: { type: 'password' }, clientSecret: { type: 'password' } },
  });
};
