// The software bill of materials shipped in each release: `npm sbom` (npm's own, CycloneDX 1.5) of the runtime
// dependencies as installed, written to sbom.cdx.json in the package (or to the file named as the argument).
// `npm pack` and `npm publish` run it (prepack), so the tarball carries the list of what it depends on.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'sbom.cdx.json'));
const npm = process.env.npm_execpath;
// Under npm, its own CLI (the same npm that runs the script); else the npm on PATH.
const [command, args] = npm ? [process.execPath, [npm]] : ['npm', []];
const sbom = execFileSync(command, [...args, 'sbom', '--sbom-format', 'cyclonedx', '--omit', 'dev'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
const parsed = JSON.parse(sbom);
if (parsed.bomFormat !== 'CycloneDX') throw new Error('npm sbom did not give a CycloneDX document');
fs.writeFileSync(out, JSON.stringify(parsed, null, 2) + '\n');
console.log(`sbom: ${parsed.components.length} components (CycloneDX ${parsed.specVersion}) in ${path.relative(process.cwd(), out) || out}`);
