// node-red-node-test-helper bound to the Node-RED under test: `node-red` (4.1.x) by default, `node-red-5` when
// test/run.js sets ADVIS_NODE_RED for the second pass, so the same node suites prove both majors.
import * as fs from 'node:fs';
import * as path from 'node:path';
import helper from 'node-red-node-test-helper';

export const runtimePackage = process.env.ADVIS_NODE_RED ?? 'node-red';
const runtimeMain = require.resolve(runtimePackage);
helper.init(runtimeMain);

/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED loads node modules with require(); so do the tests. */

/** A core node module (e.g. 'common/25-catch.js') of the Node-RED under test. */
export function coreNode(file: string): unknown {
  return require(require.resolve(`@node-red/nodes/core/${file}`, { paths: [path.dirname(runtimeMain)] }));
}

const NODES = path.join(__dirname, '..', '..', 'nodes');

/**
 * `RED._` with this package's en-US catalogs: the helper's returns the key itself, so a test would see keys where a
 * user reads texts, and a key missing from the catalog would pass unseen. With it, the tests read what a user reads,
 * and a missing key shows as the key.
 */
const english = (() => {
  const catalog: Record<string, unknown> = {};
  for (const name of fs.readdirSync(NODES)) {
    const file = path.join(NODES, name, 'locales', 'en-US', `${name}.json`);
    if (fs.existsSync(file)) Object.assign(catalog, JSON.parse(fs.readFileSync(file, 'utf8')));
  }
  return (key: string, values: Record<string, unknown> = {}): string => {
    let text: unknown = catalog;
    for (const part of key.replace(/^[^:]*:/, '').split('.')) text = (text as Record<string, unknown> | undefined)?.[part];
    return typeof text === 'string' ? text.replace(/__(\w+)__/g, (all, name: string) => (name in values ? String(values[name]) : all)) : key;
  };
})();

type NodeModule = (RED: { _: unknown }) => void;
const withCatalog = (module: NodeModule): NodeModule => (RED) => {
  RED._ = english;
  module(RED);
};

/** This package's built node modules, as Node-RED loads them, with the en-US catalogs. */
export const nodes = {
  site: withCatalog(require('../../nodes/advis-site/advis-site')),
  parse: withCatalog(require('../../nodes/adt-parse/adt-parse')),
  advis: withCatalog(require('../../nodes/advis/advis')),
  listener: withCatalog(require('../../nodes/hl7-listener/hl7-listener')),
  hl7In: withCatalog(require('../../nodes/hl7-in/hl7-in')),
  hl7Response: withCatalog(require('../../nodes/hl7-response/hl7-response')),
  hl7Out: withCatalog(require('../../nodes/hl7-out/hl7-out')),
  medcomOut: withCatalog(require('../../nodes/medcom-out/medcom-out')),
  medcomVans: withCatalog(require('../../nodes/medcom-vans/medcom-vans')),
  medcomRest: withCatalog(require('../../nodes/medcom-rest/medcom-rest')),
};

export { helper };
