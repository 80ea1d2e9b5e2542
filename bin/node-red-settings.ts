// The Node-RED settings of `npm start` and of the container, read from the environment. bin/settings.ts hands them to
// Node-RED (`--settings`); the launcher calls this first so that a refusal is a one-line message, not a stack trace.
//
// The editor and its admin API can deploy any flow, so they never listen beyond loopback unless adminAuth guards
// them: the official Node-RED image leaves that to the operator, but a hospital network is not the place for an
// open editor. The flows' own HTTP endpoints (`http in`, e.g. the region flow's POST /advis/adt, which makes a real
// advis) are not covered by adminAuth: beyond loopback they answer this machine only, unless a login for them is
// set (Node-RED's httpNodeAuth).
import { createHash, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The part of Node-RED's settings this product sets (the rest keep Node-RED's defaults). */
export interface NodeRedSettings {
  uiHost: string;
  uiPort: number;
  userDir: string;
  flowFile: string;
  credentialSecret?: string;
  adminAuth?: {
    type: 'credentials';
    users: AdminUser[];
    /** Node-RED's hook for bearer tokens of its own: ADVIS_MONITOR_TOKEN, for a scraper or the healthcheck. */
    tokens?: (token: string) => Promise<{ username: string; permissions: string[] } | null>;
  };
  https?: { key: Buffer; cert: Buffer };
  /** A login for the flows' HTTP endpoints, from ADVIS_HTTP_USER and ADVIS_HTTP_PASSWORD_HASH. */
  httpNodeAuth?: { user: string; pass: string };
  /** Without that login and beyond loopback: the flows' HTTP endpoints refuse requests from other machines. */
  httpNodeMiddleware?: (req: { socket: { remoteAddress?: string } }, res: HttpAnswer, next: () => void) => void;
  editorTheme: { tours: boolean };
  telemetry: { enabled: boolean };
  /** Node-RED's console log level, from ADVIS_LOG_LEVEL (default info). */
  logging: { console: { level: LogLevel; metrics: false; audit: false } };
  /** How long an outbox claim lasts (ms): how soon another instance sends what a dead one had claimed. */
  advisOutboxLease?: number;
}

/** A Node-RED user: `permissions` is `*`, `read`, or a list of scopes such as `["read", "advis.read-personal"]`. */
export interface AdminUser {
  username: string;
  password: string;
  permissions: string | string[];
}

export class SettingsError extends Error {}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

/** The part of Express's response the middleware uses. */
interface HttpAnswer {
  status(code: number): HttpAnswer;
  type(type: string): HttpAnswer;
  send(body: string): void;
}

/** Answers 403 to a request from another machine: the flows' endpoints are for trying things out on this one. */
export function thisMachineOnly(req: { socket: { remoteAddress?: string } }, res: HttpAnswer, next: () => void): void {
  const from = req.socket.remoteAddress ?? '';
  if (isLoopback(from.replace(/^::ffff:/, ''))) return next();
  res
    .status(403)
    .type('text/plain')
    .send(
      "This endpoint answers this machine only: set ADVIS_HTTP_USER and ADVIS_HTTP_PASSWORD_HASH to open the flows' HTTP endpoints with a login. " +
        '/ Dette endpoint svarer kun denne maskine: sæt ADVIS_HTTP_USER og ADVIS_HTTP_PASSWORD_HASH for at åbne flowenes HTTP-endpoints med login.\n',
    );
}

function logLevel(env: NodeJS.ProcessEnv): LogLevel {
  const level = env.ADVIS_LOG_LEVEL ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new SettingsError(`ADVIS_LOG_LEVEL is one of ${LOG_LEVELS.join(', ')}, not "${level}" / ADVIS_LOG_LEVEL er en af ${LOG_LEVELS.join(', ')}`);
  return level as LogLevel;
}

function httpNodeAuth(env: NodeJS.ProcessEnv): NodeRedSettings['httpNodeAuth'] {
  const user = env.ADVIS_HTTP_USER;
  const pass = env.ADVIS_HTTP_PASSWORD_HASH;
  if (!user && !pass) return undefined;
  if (!user || !pass)
    throw new SettingsError('ADVIS_HTTP_USER and ADVIS_HTTP_PASSWORD_HASH go together: set both, or neither. / ADVIS_HTTP_USER og ADVIS_HTTP_PASSWORD_HASH hører sammen.');
  if (!BCRYPT.test(pass))
    throw new SettingsError('ADVIS_HTTP_PASSWORD_HASH must be a bcrypt hash (`npx node-red admin hash-pw`), never the password itself. / ADVIS_HTTP_PASSWORD_HASH skal være en bcrypt-hash.');
  return { user, pass };
}

const BCRYPT = /^\$2[aby]\$\d\d\$.{53}$/;

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

function adminAuth(env: NodeJS.ProcessEnv): NodeRedSettings['adminAuth'] {
  const username = env.ADVIS_ADMIN_USER;
  const password = env.ADVIS_ADMIN_PASSWORD_HASH;
  if (!!username !== !!password)
    throw new SettingsError(
      'ADVIS_ADMIN_USER and ADVIS_ADMIN_PASSWORD_HASH go together: set both, or neither. ' +
        '/ ADVIS_ADMIN_USER og ADVIS_ADMIN_PASSWORD_HASH hører sammen: sæt begge eller ingen.',
    );
  if (password && !BCRYPT.test(password))
    throw new SettingsError(
      'ADVIS_ADMIN_PASSWORD_HASH must be a bcrypt hash (make one with `npx node-red admin hash-pw`), never the password itself. ' +
        '/ ADVIS_ADMIN_PASSWORD_HASH skal være en bcrypt-hash (lav den med `npx node-red admin hash-pw`), aldrig selve adgangskoden.',
    );
  const users: AdminUser[] = username && password ? [{ username, password, permissions: '*' }] : [];
  if (env.ADVIS_ADMIN_USERS_FILE) users.push(...usersFile(env.ADVIS_ADMIN_USERS_FILE));
  const token = env.ADVIS_MONITOR_TOKEN;
  if (token !== undefined && token.length < 32)
    throw new SettingsError('ADVIS_MONITOR_TOKEN must be at least 32 characters (e.g. `openssl rand -hex 32`). / ADVIS_MONITOR_TOKEN skal være mindst 32 tegn.');
  if (!users.length) {
    if (token) throw new SettingsError('ADVIS_MONITOR_TOKEN needs adminAuth: set ADVIS_ADMIN_USER (or ADVIS_ADMIN_USERS_FILE) too. / ADVIS_MONITOR_TOKEN kræver adminAuth.');
    return undefined;
  }
  return { type: 'credentials', users, ...(token && { tokens: monitorToken(token) }) };
}

/**
 * More users with their own permissions, from a JSON file: `[{"username", "password": "<bcrypt hash>", "permissions"}]`.
 * The advis monitor's scopes are `advis.read` (counts and lists; a `read` user has it), `advis.read-personal` (CPR
 * numbers, names, Bundles) and `advis.write` (resend, dead-letter, release; a `write` user has it).
 */
function usersFile(file: string): AdminUser[] {
  let list: unknown;
  try {
    list = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new SettingsError(`ADVIS_ADMIN_USERS_FILE ${file} cannot be read as JSON: ${(error as Error).message} / kan ikke læses som JSON`);
  }
  if (!Array.isArray(list) || !list.length) throw new SettingsError(`ADVIS_ADMIN_USERS_FILE ${file} must hold a list of users / skal indeholde en liste af brugere`);
  return list.map((u: Partial<AdminUser>, i) => {
    const where = `ADVIS_ADMIN_USERS_FILE ${file}, user ${i + 1}`;
    if (typeof u?.username !== 'string' || !u.username) throw new SettingsError(`${where}: "username" is missing / mangler`);
    if (typeof u.password !== 'string' || !BCRYPT.test(u.password)) throw new SettingsError(`${where}: "password" must be a bcrypt hash / skal være en bcrypt-hash`);
    const p = u.permissions;
    if (!(typeof p === 'string' || (Array.isArray(p) && p.length && p.every((x) => typeof x === 'string')))) {
      throw new SettingsError(`${where}: "permissions" must be "*", "read" or a list of scopes / skal være "*", "read" eller en liste`);
    }
    return { username: u.username, password: u.password, permissions: p };
  });
}

/** The monitor token reads health, metrics and counts (advis.read), nothing else; compared in constant time. */
function monitorToken(expected: string): (token: string) => Promise<{ username: string; permissions: string[] } | null> {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  const want = digest(expected);
  return (token) => Promise.resolve(timingSafeEqual(digest(token), want) ? { username: 'advis-monitor-token', permissions: ['advis.read'] } : null);
}

function https(env: NodeJS.ProcessEnv): NodeRedSettings['https'] {
  const key = env.ADVIS_HTTPS_KEY_FILE;
  const cert = env.ADVIS_HTTPS_CERT_FILE;
  if (!key && !cert) return undefined;
  if (!key || !cert)
    throw new SettingsError(
      'ADVIS_HTTPS_KEY_FILE and ADVIS_HTTPS_CERT_FILE go together. / ADVIS_HTTPS_KEY_FILE og ADVIS_HTTPS_CERT_FILE hører sammen.',
    );
  return { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
}

/** The data folder: `$ADVIS_DATA_DIR`, else `data/` in the package. Node-RED's user directory is `node-red/` in it. */
export const dataDirectory = (env: NodeJS.ProcessEnv): string =>
  path.resolve(env.ADVIS_DATA_DIR ?? path.join(__dirname, '..', '..', 'data'));

export function nodeRedSettings(env: NodeJS.ProcessEnv): NodeRedSettings {
  const uiHost = env.ADVIS_HOST ?? '127.0.0.1';
  const uiPort = Number(env.PORT ?? '1880');
  if (!Number.isInteger(uiPort) || uiPort < 0 || uiPort > 65535) throw new SettingsError(`PORT is not a port number: ${env.PORT}`);
  const auth = adminAuth(env);
  const nodeAuth = httpNodeAuth(env);
  const tls = https(env);
  const lease = env.ADVIS_OUTBOX_LEASE_MS === undefined ? undefined : Number(env.ADVIS_OUTBOX_LEASE_MS);
  if (lease !== undefined && !(Number.isInteger(lease) && lease >= 1000)) {
    throw new SettingsError(`ADVIS_OUTBOX_LEASE_MS is not a number of milliseconds of at least 1000: ${env.ADVIS_OUTBOX_LEASE_MS}`);
  }
  if (!auth && !isLoopback(uiHost))
    throw new SettingsError(
      `the editor would listen on ${uiHost} without a login: set ADVIS_ADMIN_USER and ADVIS_ADMIN_PASSWORD_HASH ` +
        '(README, "Running it in a container"), or keep ADVIS_HOST on 127.0.0.1. ' +
        `/ editoren ville lytte på ${uiHost} uden login: sæt ADVIS_ADMIN_USER og ADVIS_ADMIN_PASSWORD_HASH, eller behold ADVIS_HOST på 127.0.0.1.`,
    );
  return {
    uiHost,
    uiPort,
    userDir: path.join(dataDirectory(env), 'node-red'),
    flowFile: 'flows.json',
    // Unset, Node-RED makes a key of its own and keeps it in the user directory (.config.runtime.json).
    ...(env.NODE_RED_CREDENTIAL_SECRET ? { credentialSecret: env.NODE_RED_CREDENTIAL_SECRET } : {}),
    ...(auth ? { adminAuth: auth } : {}),
    ...(nodeAuth ? { httpNodeAuth: nodeAuth } : isLoopback(uiHost) ? {} : { httpNodeMiddleware: thisMachineOnly }),
    ...(tls ? { https: tls } : {}),
    editorTheme: { tours: false },
    telemetry: { enabled: false },
    logging: { console: { level: logLevel(env), metrics: false, audit: false } },
    ...(lease !== undefined ? { advisOutboxLease: lease } : {}),
  };
}
