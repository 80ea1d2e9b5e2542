// node-red-node-test-helper bound to the Node-RED under test: `node-red` (4.1.x) by default, `node-red-5` when
// test/run.js sets ADVIS_NODE_RED for the second pass, so the same node suites prove both majors.
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

/** This package's built node modules, as Node-RED loads them. */
export const nodes = {
  site: require('../../nodes/advis-site/advis-site'),
  parse: require('../../nodes/adt-parse/adt-parse'),
  advis: require('../../nodes/advis/advis'),
  listener: require('../../nodes/hl7-listener/hl7-listener'),
  hl7In: require('../../nodes/hl7-in/hl7-in'),
  hl7Response: require('../../nodes/hl7-response/hl7-response'),
  hl7Out: require('../../nodes/hl7-out/hl7-out'),
  medcomOut: require('../../nodes/medcom-out/medcom-out'),
  medcomVans: require('../../nodes/medcom-vans/medcom-vans'),
  medcomRest: require('../../nodes/medcom-rest/medcom-rest'),
};

export { helper };
