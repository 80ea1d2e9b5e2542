// MedCom's 44 TouchStone sender TestScripts (../shared/medcom/touchstone-send, as MedCom publishes them), each run on
// the Bundles that reach a receiver when the ADT sequence of lib/certify/cases.ts goes through the engine and the
// outbox worker with the example region's site: the sender test of MedCom's test protocol (step 3.2.1).
import { expect } from 'chai';
import type { Bundle } from 'fhir/r4';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadSite, type Site } from '../../lib/advis/site';
import { castOf, TOUCHSTONE_SEQUENCES, type Cast } from '../../lib/certify/cases';
import { runSequence } from '../../lib/certify/run';
import { evaluateTestScript, type ScriptResult, type TestScript } from '../../lib/certify/testscript';
import { loadProfilePackages } from '../../lib/fhir/profiles';
import { createValidator, type MedComValidator } from '../../lib/fhir/validate';
import { describeShared, medcomPackages, shared, sharedDir } from '../support/shared';

const failures = (r: ScriptResult): string[] => [
  ...r.problems,
  ...r.tests.flatMap((t) => t.assertions.filter((a) => !a.passed && !a.warningOnly).map((a) => `${t.name}: ${a.description} | ${a.check} → ${a.detail}`)),
];

describeShared("MedCom's TouchStone sender scripts (test protocol 3.2.1)", function () {
  let site: Site;
  let cast: Cast;
  let validator: MedComValidator;
  const dir = () => shared('medcom', 'touchstone-send');
  const scripts = (): TestScript[] =>
    fs.readdirSync(dir()).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(fs.readFileSync(path.join(dir(), f), 'utf8')) as TestScript);
  const run = async (script: TestScript, sequenceOf = script.id) => {
    const played = await runSequence(TOUCHSTONE_SEQUENCES[sequenceOf]!, cast, site, validator);
    return evaluateTestScript(script, played.posted.map((p) => p.bundle), (b) => validator.validate(b));
  };

  before(() => {
    site = loadSite(JSON.parse(fs.readFileSync(path.join(process.cwd(), 'flows', 'region.site.json'), 'utf8')));
    cast = castOf(site);
    validator = createValidator(loadProfilePackages(medcomPackages()));
  });

  it('has all 44 scripts, and an ADT sequence for each of them and for nothing else', () => {
    const ids = scripts().map((s) => s.id);
    expect(ids).to.have.length(44);
    expect(Object.keys(TOUCHSTONE_SEQUENCES).sort()).to.deep.equal([...ids].sort());
  });

  describe('each script, every request assertion', () => {
    for (const name of listScripts()) {
      it(name.replace(/^TestScript-hospitalnotification-|\.json$/g, ''), async () => {
        const script = JSON.parse(fs.readFileSync(path.join(dir(), name), 'utf8')) as TestScript;
        const result = await run(script);
        expect(failures(result)).to.deep.equal([]);
        const asserted = result.tests.reduce((n, t) => n + t.assertions.length, 0);
        expect(asserted, 'assertions evaluated').to.be.greaterThan(result.tests.length * 3);
      });
    }
  });

  describe('the runner', () => {
    const script = (id: string) => scripts().find((s) => s.id === `hospitalnotification-${id}`)!;

    it("fails a script on another sequence's messages: an admission's STIN is no acute ambulant STAA", async () => {
      const result = await run(script('send-staa'), 'hospitalnotification-send-stin');
      expect(result.passed).to.equal(false);
      expect(failures(result).join('\n')).to.include('Encounter).class.code equals EMER → ["IMP"]');
    });

    it('fails a script when fewer messages reach the receiver than it has tests', async () => {
      const result = await run(script('send-stor'), 'hospitalnotification-send-stin');
      expect(result.problems).to.deep.equal(['the script has 2 tests, and 1 messages reached the receiver']);
      expect(failures(result).some((f) => f.includes('no message reached the receiver'))).to.equal(true);
    });

    it('fails a correction of the hospital that keeps the sender (an unquoted variable is compared as text, not as a number)', async () => {
      const imp05 = script('PF-send-imp-05');
      const result = await run(imp05, 'hospitalnotification-send-re-stin');
      const sor = site.departmentOrganisation(cast.department).sor;
      expect(failures(result).filter((f) => f.includes(`resolve().identifier.where(system = 'urn:oid:1.2.208.176.1.1').value != '${sor}' → [false]`))).to.have.length(1);
    });

    it('fails a script whose variable got no value, naming it', () => {
      const minimal: TestScript = {
        resourceType: 'TestScript',
        id: 'minimal',
        variable: [{ name: 'missing', expression: 'Bundle.nothing', sourceId: 'first' }],
        test: [{ action: [{ operation: { responseId: 'first' } }, { assert: { direction: 'request', expression: "Bundle.id = '${missing}'" } }] }],
      };
      const result = evaluateTestScript(minimal, [{ resourceType: 'Bundle', type: 'message', id: 'x' } as Bundle], () => ({ valid: true, issues: [] }));
      expect(failures(result)).to.deep.equal([":  | Bundle.id = '' → the variable(s) missing got no value from the earlier messages"]);
    });
  });
});

/** The script files, listed when the suite is defined (mocha needs the titles then); empty without ../shared. */
function listScripts(): string[] {
  return sharedDir ? fs.readdirSync(shared('medcom', 'touchstone-send')).filter((f) => f.endsWith('.json')).sort() : [];
}
