import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isValidGln, isValidSor, loadSite, SiteConfigError } from '../../lib/advis/site';
import { NO_ADVIS_REASONS } from '../../lib/advis/reasons';
import { DEFAULT_ADT_SOURCES } from '../../lib/hl7/adt-sources';

const exampleSite = (): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(path.join(process.cwd(), 'flows', 'region.site.json'), 'utf8'));

function siteErrors(document: unknown): { path: string; message: string }[] {
  try {
    loadSite(document);
  } catch (error) {
    expect(error).to.be.instanceOf(SiteConfigError);
    return (error as SiteConfigError).errors;
  }
  throw new Error('expected the site to be rejected');
}

describe('site configuration', () => {
  it('accepts the example region site and answers look-ups', () => {
    const site = loadSite(exampleSite());
    const heart = site.department('HJA', 'HGH')!;
    expect(heart.kind).to.equal('somatic');
    expect(site.departmentOrganisation(heart)).to.deep.equal({
      name: 'Hjerteafdelingen på Herlev og Gentofte hospital',
      sor: '265161000016000',
      gln: '5790000209354',
    });
    // A department without its own GLN uses its hospital's.
    expect(site.departmentOrganisation(site.department('AKM', null)!).gln).to.equal('5790000209354');
    expect(site.receiver('0163')).to.deep.equal({ municipalityCode: '0163', name: 'Plejecenter Herlev', sor: '953741000016009', gln: '5790001348120' });
    expect(site.receiver('9999')).to.equal(undefined);
    expect(site.hospital('OUH')!.region).to.equal('1083');
    expect(site.adt.cprIdentifierTypes).to.deep.equal(['CPR', 'NNDNK']);
  });

  it('checks GLN check digits and SOR lengths', () => {
    expect(isValidGln('5790000209354')).to.equal(true);
    expect(isValidGln('5790000209355')).to.equal(false);
    expect(isValidGln('579000020935')).to.equal(false);
    expect(isValidSor('265161000016000')).to.equal(true);
    expect(isValidSor('1234567890')).to.equal(false);
  });

  it('reports every error at once, each with its JSON path', () => {
    const site = exampleSite() as { hospitals: Record<string, unknown>[]; departments: Record<string, unknown>[]; municipalities: Record<string, unknown>[] };
    site.hospitals[0].gln = '5790000209355';
    site.departments[1].sor = '12345';
    site.departments[2].hospital = 'NOPE';
    site.departments[3].kind = 'surgical';
    site.municipalities[1].code = '0101';
    site.municipalities[2].code = '163';
    const errors = siteErrors({ ...site, adt: { visitNumber: 'PV1 19', colour: 'red' }, extra: 1 });
    expect(errors.map((e) => e.path)).to.have.members([
      '$.hospitals[0].gln',
      '$.departments[1].sor',
      '$.departments[2].hospital',
      '$.departments[3].kind',
      '$.municipalities[1].code',
      '$.municipalities[2].code',
      '$.adt.visitNumber',
      '$.adt.colour',
      '$.extra',
    ]);
    expect(errors.find((e) => e.path === '$.hospitals[0].gln')!.message).to.match(/check digit/);
    expect(errors.find((e) => e.path === '$.municipalities[1].code')!.message).to.match(/duplicate code "0101"/);
  });

  it('rejects a document that is not a site at all', () => {
    expect(siteErrors([]).map((e) => e.path)).to.include.members(['$', '$.hospitals', '$.departments', '$.municipalities']);
  });

  it('applies ADT field source overrides over the defaults', () => {
    const site = loadSite({ ...exampleSite(), adt: { municipality: ['PID-12'], selfTransportDispositions: ['99'] } });
    expect(site.adt.municipality).to.deep.equal(['PID-12']);
    expect(site.adt.selfTransportDispositions).to.deep.equal(['99']);
    expect(site.adt.visitNumber).to.equal('PV1-19.1');
  });

  it('has a JSON Schema (docs/site.schema.json) that names every ADT setting the code knows', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(process.cwd(), 'docs', 'site.schema.json'), 'utf8'));
    expect(Object.keys(schema.properties.adt.properties)).to.have.members(Object.keys(DEFAULT_ADT_SOURCES));
    expect(schema.required).to.deep.equal(['hospitals', 'departments', 'municipalities']);
  });
});

describe('documentation of the reason codes', () => {
  it('docs/mapping.md lists exactly the closed list of reason codes', () => {
    const doc = fs.readFileSync(path.join(process.cwd(), 'docs', 'mapping.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## 4. Reason codes'));
    const documented = [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(documented).to.have.members(Object.keys(NO_ADVIS_REASONS));
  });
});
