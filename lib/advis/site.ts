// The site configuration: who the hospital is (hospitals, departments with SOR and GLN and kind), where advis go
// (the municipality directory) and how its ADT messages read (the `adt` field sources). One JSON shape, used by the
// `advis-site` config node, the command line and the ready-made flows.
//
// Loading checks the whole document and reports every error at once with its JSON path, because a region's
// integration engineer fixes a site file in one go, not one error per restart. The checks are few and domain
// specific (GLN check digit, SOR length, cross references), so they are written here rather than pulling in a
// JSON Schema engine; docs/site.schema.json describes the same shape for editors and documentation.

import { DEFAULT_ADT_SOURCES, type AdtSources } from '../hl7/adt-sources';
import type { OrganisationRef, Receiver } from './types';

export type DepartmentKind = 'somatic' | 'psychiatric' | 'hospice';

export interface SiteHospital {
  /** The facility code in PV1-3.4. */
  code: string;
  name: string;
  sor: string;
  gln: string;
  /** The region the hospital belongs to (e.g. "1084" Region Hovedstaden); decides same-region transfers. */
  region: string;
}

export interface SiteDepartment {
  /** The point-of-care code in PV1-3.1. */
  code: string;
  /** The code of its hospital. */
  hospital: string;
  name: string;
  sor: string;
  /** The department's own GLN (lokationsnummer); without one, its hospital's is used. */
  gln?: string;
  kind: DepartmentKind;
}

export interface SiteMunicipality {
  /** Kommunekode, 4 digits. */
  code: string;
  /** The receiver unit's name, e.g. "Sygehusadviser, Københavns Kommune". */
  name: string;
  sor: string;
  gln: string;
}

export interface SiteConfig {
  hospitals: SiteHospital[];
  departments: SiteDepartment[];
  municipalities: SiteMunicipality[];
  /** Overrides of the ADT field sources and code lists (docs/mapping.md §1). */
  adt?: Partial<AdtSources>;
}

/** A loaded, checked site with its look-ups. */
export interface Site {
  config: SiteConfig;
  adt: AdtSources;
  hospital(code: string): SiteHospital | undefined;
  /** The department at a point of care; the facility narrows it when department codes repeat across hospitals. */
  department(pointOfCare: string | null, facility: string | null): SiteDepartment | undefined;
  /** The department as sender/serviceProvider: its SOR, and its GLN or its hospital's. */
  departmentOrganisation(department: SiteDepartment): OrganisationRef;
  receiver(municipalityCode: string): Receiver | undefined;
}

export interface SiteError {
  path: string;
  message: string;
}

export class SiteConfigError extends Error {
  constructor(readonly errors: SiteError[]) {
    super(`the site configuration has ${errors.length} error(s):\n` + errors.map((e) => `  ${e.path}: ${e.message}`).join('\n'));
    this.name = 'SiteConfigError';
  }
}

/** GS1 GLN: 13 digits, the last a modulus-10 check digit (weights 1 and 3 from the left). */
export function isValidGln(gln: string): boolean {
  if (!/^[0-9]{13}$/.test(gln)) return false;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(gln[i]) * (i % 2 === 0 ? 1 : 3);
  return (10 - (sum % 10)) % 10 === Number(gln[12]);
}

/** SOR endpoint of an organisation: MessageHeader endpoints and the local episode-of-care system use it. */
export const sorEndpoint = (sor: string): string => `https://sor2.sum.dsdn.dk/#id=${sor}`;

/** SOR ids are at least 11 digits (dk-core `min-digits-sor`). */
export function isValidSor(sor: string): boolean {
  return /^[0-9]{11,}$/.test(sor);
}

const KINDS: readonly DepartmentKind[] = ['somatic', 'psychiatric', 'hospice'];
const LIST_SOURCES = Object.entries(DEFAULT_ADT_SOURCES).filter(([, v]) => Array.isArray(v)).map(([k]) => k);
const PATH_SOURCES = Object.entries(DEFAULT_ADT_SOURCES).filter(([, v]) => typeof v === 'string').map(([k]) => k);
const FIELD_PATH = /^[A-Z][A-Z0-9]{2}-[0-9]+(\.[0-9]+){0,2}$/;

/** Checks a parsed site document and returns the site, or throws SiteConfigError listing every problem. */
export function loadSite(document: unknown): Site {
  const errors: SiteError[] = [];
  const fail = (path: string, message: string): void => void errors.push({ path, message });
  const doc = (isObject(document) ? document : (fail('$', 'must be a JSON object'), {})) as Record<string, unknown>;

  const list = (key: string): Record<string, unknown>[] => {
    const value = doc[key];
    if (!Array.isArray(value)) {
      fail(`$.${key}`, 'must be an array');
      return [];
    }
    return value.map((item, i) => (isObject(item) ? item : (fail(`$.${key}[${i}]`, 'must be an object'), {})));
  };
  const text = (o: Record<string, unknown>, path: string, key: string, optional = false): string => {
    const v = o[key];
    if (v === undefined && optional) return '';
    if (typeof v !== 'string' || v.trim() === '') fail(`${path}.${key}`, 'must be a non-empty string');
    return typeof v === 'string' ? v : '';
  };
  const sor = (o: Record<string, unknown>, path: string): string => {
    const v = text(o, path, 'sor');
    if (v && !isValidSor(v)) fail(`${path}.sor`, `SOR id "${v}" must be at least 11 digits`);
    return v;
  };
  const gln = (o: Record<string, unknown>, path: string, optional = false): string => {
    const v = text(o, path, 'gln', optional);
    if (v && !isValidGln(v)) fail(`${path}.gln`, `GLN "${v}" must be 13 digits with a valid GS1 check digit`);
    return v;
  };
  const unique = (items: { code: string }[], path: string, scope: (i: number) => string = () => ''): void => {
    const seen = new Map<string, number>();
    items.forEach((item, i) => {
      const key = scope(i) + '\u0000' + item.code;
      if (item.code && seen.has(key)) fail(`${path}[${i}].code`, `duplicate code "${item.code}" (also at [${seen.get(key)}])`);
      else seen.set(key, i);
    });
  };

  const hospitals: SiteHospital[] = list('hospitals').map((h, i) => {
    const p = `$.hospitals[${i}]`;
    return { code: text(h, p, 'code'), name: text(h, p, 'name'), sor: sor(h, p), gln: gln(h, p), region: text(h, p, 'region') };
  });
  unique(hospitals, '$.hospitals');
  const hospitalCodes = new Set(hospitals.map((h) => h.code));

  const departments: SiteDepartment[] = list('departments').map((d, i) => {
    const p = `$.departments[${i}]`;
    const hospital = text(d, p, 'hospital');
    if (hospital && !hospitalCodes.has(hospital)) fail(`${p}.hospital`, `unknown hospital "${hospital}"`);
    const kind = d.kind as DepartmentKind;
    if (!KINDS.includes(kind)) fail(`${p}.kind`, `must be one of ${KINDS.join(', ')}`);
    const g = gln(d, p, true);
    return { code: text(d, p, 'code'), hospital, name: text(d, p, 'name'), sor: sor(d, p), ...(g ? { gln: g } : {}), kind };
  });
  unique(departments, '$.departments', (i) => departments[i].hospital);

  const municipalities: SiteMunicipality[] = list('municipalities').map((m, i) => {
    const p = `$.municipalities[${i}]`;
    const code = text(m, p, 'code');
    if (code && !/^[0-9]{4}$/.test(code)) fail(`${p}.code`, `kommunekode "${code}" must be 4 digits`);
    return { code, name: text(m, p, 'name'), sor: sor(m, p), gln: gln(m, p) };
  });
  unique(municipalities, '$.municipalities');

  const adt = { ...DEFAULT_ADT_SOURCES };
  if (doc.adt !== undefined) {
    if (!isObject(doc.adt)) fail('$.adt', 'must be an object');
    else {
      for (const [key, value] of Object.entries(doc.adt)) {
        const p = `$.adt.${key}`;
        if (LIST_SOURCES.includes(key)) {
          if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) fail(p, 'must be an array of strings');
          else if (key === 'municipality' && !value.every((v) => FIELD_PATH.test(v))) fail(p, 'must hold field paths like "PID-11.9"');
          else (adt as Record<string, unknown>)[key] = value;
        } else if (PATH_SOURCES.includes(key)) {
          if (typeof value !== 'string' || !FIELD_PATH.test(value)) fail(p, 'must be a field path like "PV1-19.1"');
          else (adt as Record<string, unknown>)[key] = value;
        } else fail(p, `unknown setting (known: ${[...PATH_SOURCES, ...LIST_SOURCES].join(', ')})`);
      }
    }
  }
  for (const key of Object.keys(doc)) {
    if (!['hospitals', 'departments', 'municipalities', 'adt', '$schema'].includes(key)) fail(`$.${key}`, 'unknown property');
  }
  if (errors.length) throw new SiteConfigError(errors);

  const config: SiteConfig = { hospitals, departments, municipalities, ...(doc.adt ? { adt: doc.adt as Partial<AdtSources> } : {}) };
  const hospitalByCode = new Map(hospitals.map((h) => [h.code, h]));
  const municipalityByCode = new Map(municipalities.map((m) => [m.code, m]));
  return {
    config,
    adt,
    hospital: (code) => hospitalByCode.get(code),
    department(pointOfCare, facility) {
      if (!pointOfCare) return undefined;
      const matches = departments.filter((d) => d.code === pointOfCare && (!facility || d.hospital === facility));
      return matches.length === 1 ? matches[0] : undefined;
    },
    departmentOrganisation: (d) => ({ name: d.name, sor: d.sor, gln: d.gln ?? hospitalByCode.get(d.hospital)!.gln }),
    receiver(code) {
      const m = municipalityByCode.get(code);
      return m && { municipalityCode: m.code, name: m.name, sor: m.sor, gln: m.gln };
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
