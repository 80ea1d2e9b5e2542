// Writes lib/fhir/packages/manifest.json: name, version, licence and the sha256 of every file of each MedCom package
// shipped in lib/fhir/packages. Run it after replacing a package (`node scripts/fhir-packages-manifest.js`); the test
// test/fhir/shipped-packages.test.ts fails whenever a shipped file and the manifest disagree.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const dir = path.resolve(__dirname, '..', 'lib', 'fhir', 'packages');

function files(folder, prefix = '') {
  return fs.readdirSync(folder, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(folder, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]).sort();
}

const packages = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort().map((folder) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, folder, 'package.json'), 'utf8'));
  const sha256 = {};
  for (const f of files(path.join(dir, folder))) sha256[f] = crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, folder, f))).digest('hex');
  return { name: pkg.name, version: pkg.version, license: pkg.license, folder, sha256 };
});
fs.writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify({ source: 'github.com/medcomdk/medcomfhir-website @ e26d6b146e23bc2c116474dc62596efed50d3a79: ig/<ig>/<version>/package.tgz, unpacked (as on medcomfhir.dk)', packages }, null, 2)}\n`);
