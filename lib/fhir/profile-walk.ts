// The structural half of MedCom validation: a resource checked against a (patched) profile in one walk.
//
// Why not @medplum/core's validateTypedValue, which does the same job: it re-derives everything per value (a typed
// value and a path string for every element, the element definition looked up by name, slice discriminators
// resolved through generic property access, each invariant evaluated through the generic FHIRPath entry point), which
// made it ~70% of an advis. Here each profile's parsed schema is compiled once, on first use, into a tree of checks,
// and a resource is walked once. The semantics are Medplum's, rule for rule: Medplum's own validator is kept as the
// test oracle (test/support/medplum-oracle.ts) and test/fhir/differential.test.ts proves both agree on every MedCom
// example, on seeded errors and on the Bundles the engine builds. What is still Medplum's here: the snapshot parser
// (getDataType: the patches in medcom-layer.ts are written against it), the FHIRPath evaluator for the invariants
// not written as JS (invariants.ts; parsed once per expression), and its pattern/fixed/discriminator comparisons
// (deepIncludes, matchDiscriminant).
//
// Not reproduced: Medplum's warnings (reference target types, primitive-extension type mismatch), which never make a
// Bundle invalid.

import {
  deepEquals,
  deepIncludes,
  getDataType,
  getNestedProperty,
  isValidCalendarDate,
  matchDiscriminant,
  parseFhirPath,
  toTypedValue,
  tryGetDataType,
  UCUM,
  validationRegexes,
  type FhirPathAtom,
  type InternalSchemaElement,
  type InternalTypeSchema,
  type SlicingRules,
  type TypedValue,
} from '@medplum/core';
import { COMPILED_INVARIANTS, isEmptyValue } from './invariants';

export interface WalkIssue {
  severity: 'error' | 'warning';
  /** The FHIRPath-like location, e.g. `Encounter.period.start` or `Patient.identifier[0]`. */
  expression: string;
  message: string;
  /** The invariant key, for invariant failures. */
  rule?: string;
}

/** A value under a required binding, for the terminology check of the caller. */
export interface BoundValue {
  valueSet: string;
  type: string;
  value: unknown;
  path: string;
}

type Value = { type: string; value: unknown; path: string };

/** Invariants Medplum never evaluates (validation.ts skippedConstraintKeys); skipped here the same way. */
const SKIPPED = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);

const JS_TYPE: Record<string, 'string' | 'boolean' | 'number'> = {
  base64Binary: 'string', boolean: 'boolean', canonical: 'string', code: 'string', date: 'string', dateTime: 'string',
  decimal: 'number', id: 'string', instant: 'string', integer: 'number', integer64: 'string', markdown: 'string',
  oid: 'string', positiveInt: 'number', string: 'string', time: 'string', unsignedInt: 'number', uri: 'string',
  url: 'string', uuid: 'string', xhtml: 'string', 'http://hl7.org/fhirpath/System.String': 'string',
};
const isPrimitive = (type: string): boolean => type === 'undefined' || type in JS_TYPE;
const TERMINOLOGY_TYPES = new Set(['CodeableConcept', 'Coding', 'code', 'Quantity', 'string', 'uri']);
const INT_MAX = 2_147_483_647;

interface CompiledInvariant {
  key: string;
  message: string;
  test: ((value: unknown) => boolean | undefined) | undefined;
  atom: FhirPathAtom;
  /**
   * An empty result passes. For a data type's own invariants: written for values that have the parts they compare,
   * they are empty, not false, where those parts are absent (R4's ref-1 on a Reference with only an identifier;
   * R5 rewrote it as `reference.exists() implies …` to say so).
   */
  emptyPasses?: true;
}

interface CompiledProperty {
  key: string;
  element: InternalSchemaElement;
  /** The segments of an `a.b` key (profile children of an element), read as Medplum's getNestedProperty reads them. */
  segments: string[] | undefined;
  /** For a plain key: the JSON names it may have (and their `_name`), each with the type it means. */
  candidates: { name: string; extension: string; type: string; resource: boolean }[];
  invariants: CompiledInvariant[];
  /** The invariants of each value type that the element's own do not repeat, by type name (see `typeInvariants`). */
  typeInvariants: Map<string, CompiledInvariant[]>;
  valueSet: string | undefined;
  slicing: SlicingRules | undefined;
  specified: boolean;
}

interface CompiledType {
  schema: InternalTypeSchema;
  /**
   * The type's own invariants: checked when it is the root of a walk, and, for a data type (Period, ContactPoint,
   * Reference, …), on every value of it. An R4 snapshot copies a data type's invariants onto the elements of that
   * type only for Extension; per-1 (Period start ≤ end), cpt-2, ref-1 and the others live on the data type alone, and
   * Medplum's validator, like a walk of the elements' constraints, never evaluates them.
   */
  invariants: CompiledInvariant[];
  /** A data type (not a resource, not a BackboneElement of one): its invariants hold wherever it is used. */
  dataType: boolean;
  properties: CompiledProperty[];
  /** The plain properties by each JSON name they may have (`valueString`, `_valueString`, …). */
  byName: Map<string, CompiledProperty[]>;
  /** Plain properties with a minimum: their absence is an issue. */
  required: CompiledProperty[];
  /** `a.b` properties: read from the object whatever it holds. */
  nested: CompiledProperty[];
  /** The compiled types of its values, by type name (inner types first, as Medplum resolves them). */
  children: Map<string, CompiledType>;
  /** Choice elements by their prefix (`value` for `value[x]`) with the JSON names their types allow. */
  choices: Map<string, Set<string>>;
}

interface WalkState {
  issues: WalkIssue[];
  bound: BoundValue[];
  root: TypedValue;
  resources: { value: TypedValue }[];
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

export class ProfileWalker {
  private readonly compiled = new Map<InternalTypeSchema, CompiledType>();
  private readonly atoms = new Map<string, FhirPathAtom>();

  /** Checks `resource` against the data type or profile registered as `type`; issues and bound values are appended. */
  walk(type: string, resource: object, issues: WalkIssue[], bound: BoundValue[]): void {
    const schema = getDataType(type);
    const root: Value = { type, value: resource, path: schema.path };
    const state: WalkState = { issues, bound, root, resources: isResource(resource) ? [{ value: toTypedValue(resource) }] : [] };
    // Found in one pass without paths; the paths are spelled out only for a resource that has one.
    if (holdsNull(resource)) checkForNull(resource as Record<string, unknown>, schema.path, issues);
    const compiled = this.compile(schema);
    this.checkInvariants(root, compiled.invariants, state);
    this.walkObject(root, compiled, schema.path, state, false);
  }

  private compile(schema: InternalTypeSchema): CompiledType {
    let compiled = this.compiled.get(schema);
    if (compiled) return compiled;
    compiled = { schema, invariants: this.invariants(schema.constraints), dataType: false, properties: [], byName: new Map(), required: [], nested: [], children: new Map(), choices: new Map() };
    this.compiled.set(schema, compiled); // before the children: types refer to themselves (Extension.extension)
    for (const [key, element] of Object.entries(schema.elements)) {
      // Medplum names the JSON property after the element's path, not the key (Medplum's getTypedPropertyValueWithSchema).
      const last = element.path.slice(element.path.lastIndexOf('.') + 1);
      const choice = last.endsWith('[x]');
      const name = choice ? last.slice(0, -3) : last;
      const candidates = element.type.map((t) => {
        const json = choice ? name + capitalize(t.code) : name;
        const type = t.code === 'Element' || t.code === 'BackboneElement' ? element.type[0].code : t.code;
        return { name: json, extension: '_' + json, type, resource: t.code === 'Resource' };
      });
      if (key.endsWith('[x]') && !key.includes('.')) compiled.choices.set(key.slice(0, -3), new Set(candidates.map((c) => c.name)));
      const property: CompiledProperty = {
        key,
        element,
        segments: key.includes('.') ? key.split('.') : undefined,
        candidates,
        invariants: this.invariants(element.constraints),
        typeInvariants: new Map(),
        valueSet: element.binding?.strength === 'required' ? element.binding.valueSet : undefined,
        slicing: element.slicing,
        specified: !!(element.pattern || element.fixed),
      };
      compiled.properties.push(property);
      if (property.segments) compiled.nested.push(property);
      else {
        if (element.min > 0) compiled.required.push(property);
        for (const c of candidates) {
          for (const json of [c.name, c.extension]) {
            const named = compiled.byName.get(json);
            if (named) named.push(property);
            else compiled.byName.set(json, [property]);
          }
        }
      }
    }
    return compiled;
  }

  private invariants(constraints: InternalSchemaElement['constraints']): CompiledInvariant[] {
    return (constraints ?? [])
      .filter((c) => c.severity === 'error' && !SKIPPED.has(c.key))
      .map((c) => {
        const test = COMPILED_INVARIANTS[`${c.key}|${c.expression}`]?.test;
        let atom = this.atoms.get(c.expression);
        if (!atom) this.atoms.set(c.expression, (atom = parseFhirPath(c.expression)));
        return { key: c.key, message: `Constraint ${c.key} not met: ${c.description}`, test, atom };
      });
  }

  private walkObject(object: Value, type: CompiledType, path: string, state: WalkState, isEntry: boolean): void {
    const resource = isEntry && isResource(object.value);
    if (resource) state.resources.push({ value: toTypedValue(object.value) });
    const value = object.value as Record<string, unknown>;
    if (value && typeof value === 'object') {
      // The properties the JSON holds, found from its few keys rather than by looking up every element of the type
      // (a choice such as Extension.value[x] has 50 JSON names); what is absent matters only when it is required.
      for (const property of type.required) {
        if (!property.candidates.some((c) => value[c.name] !== undefined || value[c.extension] !== undefined)) {
          state.issues.push(structure(`${object.path}.${property.key}`, 'Missing required property'));
        }
      }
      let walked: CompiledProperty[] | undefined;
      for (const key in value) {
        const properties = value[key] === undefined ? undefined : type.byName.get(key);
        if (!properties) continue;
        for (const property of properties) {
          if (walked?.includes(property)) continue; // a choice or `_name` partner already read it
          (walked ??= []).push(property);
          this.walkProperty(object, property, path, type, state);
        }
      }
      for (const property of type.nested) this.walkProperty(object, property, path, type, state);
    } else {
      for (const property of type.properties) this.walkProperty(object, property, path, type, state);
    }
    this.checkAdditionalProperties(object, type, state);
    if (resource) state.resources.pop();
  }

  /**
   * The values of one property, as Medplum's getNestedProperty gives them (withPath), or ABSENT for a plain key that
   * is not there, which is most of them: absence costs nothing. `_name` primitive extensions go through Medplum.
   */
  private read(object: Value, property: CompiledProperty): (Value | Value[])[] | typeof ABSENT {
    const parent = object.value as Record<string, unknown>;
    // With paths, an absent value is an 'undefined' typed value, never undefined.
    if (property.segments) return (readPath(object, property.segments, true) ?? getNestedProperty(object, property.key, { withPath: true })) as (Value | Value[])[];
    if (!parent || typeof parent !== 'object') return getNestedProperty(object, property.key, { withPath: true }) as (Value | Value[])[];
    for (const { name, extension, type, resource } of property.candidates) {
      if (parent[extension] !== undefined) return getNestedProperty(object, property.key, { withPath: true }) as (Value | Value[])[];
      const raw = parent[name];
      if (raw === undefined) continue;
      if (isEmptyValue(raw)) break;
      const path = `${object.path}.${name}`;
      if (Array.isArray(raw)) {
        const values = new Array<Value>(raw.length);
        for (let i = 0; i < raw.length; i++) values[i] = { type: resource ? resourceType(raw[i]) : type, value: raw[i], path: `${path}[${i}]` };
        return [values];
      }
      return [{ type: resource ? resourceType(raw) : type, value: raw, path }];
    }
    return ABSENT;
  }

  private walkProperty(object: Value, property: CompiledProperty, parentPath: string, type: CompiledType, state: WalkState): void {
    const { element } = property;
    const issues = state.issues;
    const found = this.read(object, property);
    if (found === ABSENT) {
      if (element.min > 0) issues.push(structure(`${object.path}.${property.key}`, 'Missing required property'));
      return;
    }
    const path = `${parentPath}.${property.key}`;
    for (const value of found) {
      if (!Array.isArray(value) && value.value === undefined) {
        if (element.min > 0) issues.push(structure(value.path, 'Missing required property'));
        break;
      }
      let values: Value[];
      if (element.isArray) {
        if (!Array.isArray(value)) {
          issues.push(structure(path, 'Expected array of values for property'));
          break;
        }
        values = value;
      } else {
        if (Array.isArray(value)) {
          issues.push(structure(path, 'Expected single value for property'));
          break;
        }
        values = [value];
      }
      if (values.length < element.min || values.length > element.max) {
        issues.push(structure(element.path, `Invalid number of values: expected ${element.min}..${Number.isFinite(element.max) ? element.max : '*'}, but found ${values.length}`));
      }
      if (property.specified && !matchesSpecifiedValue(value, element)) issues.push(structure(path, 'Value did not match expected pattern'));
      const slices = property.slicing;
      const counts = slices ? new Array<number>(slices.slices.length).fill(0) : undefined;
      for (const v of values) {
        if (property.invariants.length) this.checkInvariants(v, property.invariants, state);
        if (isPrimitive(v.type)) this.checkPrimitive(v, state);
        else if (isEmptyValue(v.value)) issues.push(structure(v.path, 'Invalid empty non-primitive value'));
        if (property.valueSet && TERMINOLOGY_TYPES.has(v.type) && !state.bound.some((b) => b.path === v.path && b.valueSet === property.valueSet)) {
          state.bound.push({ valueSet: property.valueSet, type: v.type, value: v.value, path: v.path });
        }
        if (slices && counts) {
          const index = sliceOf(v, slices);
          if (index >= 0) counts[index]++;
        }
      }
      if (slices && counts) {
        slices.slices.forEach((slice, i) => {
          if (counts[i] < slice.min || counts[i] > slice.max) {
            issues.push(structure(path, `Incorrect number of values provided for slice '${slice.name}': expected ${slice.min}..${Number.isFinite(slice.max) ? slice.max : '*'}, but found ${counts[i]}`));
          }
        });
      }
    }
    for (const value of found) {
      for (const v of Array.isArray(value) ? value : [value]) {
        if (v === undefined || isPrimitive(v.type)) continue;
        const child = this.child(type, v.type);
        if (child.dataType) {
          const own = this.typeInvariants(property, child);
          if (own.length) this.checkInvariants(v, own, state);
        }
        this.walkObject(v, child, path, state, true);
      }
    }
  }

  /** A data type's invariants that `property`'s own constraints do not already check. */
  private typeInvariants(property: CompiledProperty, type: CompiledType): CompiledInvariant[] {
    let own = property.typeInvariants.get(type.schema.name);
    if (!own) {
      own = type.invariants.filter((i) => !property.invariants.some((p) => p.key === i.key)).map((i) => ({ ...i, emptyPasses: true as const }));
      property.typeInvariants.set(type.schema.name, own);
    }
    return own;
  }

  /** The compiled type of a value inside `parent`: one of its inner types (BackboneElements), else the data type. */
  private child(parent: CompiledType, name: string): CompiledType {
    let compiled = parent.children.get(name);
    if (!compiled) {
      const inner = parent.schema.innerTypes.find((t) => t.name === name);
      compiled = this.compile(inner ?? getDataType(name));
      if (!inner && compiled.schema.kind === 'complex-type') compiled.dataType = true;
      parent.children.set(name, compiled);
    }
    return compiled;
  }

  private checkInvariants(value: Value, invariants: CompiledInvariant[], state: WalkState): void {
    for (const invariant of invariants) {
      let ok = invariant.test?.(value.value);
      if (ok === undefined) {
        const variables: Record<string, TypedValue> = { '%context': value, '%ucum': UCUM_VALUE };
        const resource = state.resources.at(-1);
        if (resource) variables['%resource'] = resource.value;
        if (isResource(state.root.value)) variables['%rootResource'] = state.root;
        try {
          const result = invariant.atom.eval({ variables }, [value]);
          ok = result.length === 1 ? result[0].value?.valueOf() === true : result.length === 0 && invariant.emptyPasses === true;
        } catch {
          state.issues.push({ severity: 'error', expression: value.path, message: 'Error evaluating invariant expression', rule: invariant.key });
          ok = false;
        }
      }
      if (!ok) {
        state.issues.push({ severity: 'error', expression: value.path, message: invariant.message, rule: invariant.key });
        return;
      }
    }
  }

  private checkPrimitive(typed: Value, state: WalkState): void {
    let value = typed.value;
    let extensionElement: Record<string, unknown> | undefined;
    if (value && typeof value === 'object') {
      // A primitive that carries `_name` extensions arrives boxed with those properties (Medplum's getTypedPropertyValue).
      const primitive = (value as { valueOf(): unknown }).valueOf();
      const own = Object.entries(value);
      if (primitive === value) {
        extensionElement = value as Record<string, unknown>;
        value = undefined;
      } else {
        const keys = new Set(Object.keys(primitive as object));
        const extra = own.filter(([k]) => !keys.has(k));
        if (extra.length) extensionElement = Object.fromEntries(extra);
        value = primitive;
      }
    }
    const issues = state.issues;
    const path = typed.path;
    if (value !== undefined) {
      const type = typed.type;
      const expected = JS_TYPE[type];
      if (!expected) issues.push(structure(path, `Invalid JSON type: ${type} is not a valid FHIR type`));
      else if (typeof value !== expected) {
        if (value !== null) issues.push(structure(path, `Invalid JSON type: expected ${expected}, but got ${typeof value}`));
      } else if (type === 'base64Binary') {
        if (!isBase64(value as string)) issues.push(structure(path, 'Invalid base64Binary format'));
      } else if (expected === 'string') checkString(value as string, type, path, issues);
      else if (expected === 'number') checkNumber(value as number, type, path, issues);
    }
    if (extensionElement) {
      const schema = getDataType('Element');
      this.walkObject({ type: 'Element', value: extensionElement, path }, this.compile(schema), path, state, false);
    }
  }

  /** Medplum's checkAdditionalProperties: every JSON name must be an element of the type (or `_name` of one). */
  private checkAdditionalProperties(object: Value, type: CompiledType, state: WalkState): void {
    const value = object.value as Record<string, unknown> | undefined;
    if (!value || typeof value !== 'object') return;
    const elements = type.schema.elements;
    let usedChoices: Map<string, string> | undefined;
    for (const key in value) {
      if (key === 'resourceType') continue;
      const choice = type.choices.size ? choiceOf(key, type.choices, value) : undefined;
      if (choice) {
        usedChoices ??= new Map();
        const previous = usedChoices.get(choice);
        if (previous) state.issues.push({ severity: 'warning', expression: key, message: `Conflicting choice of type properties: "${key}", "${previous}"` });
        usedChoices.set(choice, key);
        continue;
      }
      if (!(key in elements) && !(key.charCodeAt(0) === 95 && key.slice(1) in elements) && value[key] !== undefined) {
        state.issues.push(structure(`${object.path}.${key}`, `Invalid additional property "${key}"`));
      }
    }
  }
}

const UCUM_VALUE = toTypedValue(UCUM);

/** A contained resource's type is its resourceType (Medplum's toTypedValueWithType). */
const resourceType = (v: unknown): string => (isResource(v) ? (v as { resourceType: string }).resourceType : 'Resource');

/** A plain key that is not in the JSON: nothing to check but its minimum. */
const ABSENT = Symbol('absent');

/** Medplum's isResource, without the call through its module's export getter. */
const isResource = (v: unknown): boolean => typeof v === 'object' && v !== null && 'resourceType' in v;

/**
 * Medplum's getNestedProperty(start, segments.join('.'), { withPath }) for plain JSON: each segment's element found in
 * the type of the value before it, read as its getTypedPropertyValueWithSchema reads it. null when Medplum must do it
 * (a `_name` primitive extension to merge, an element the schema does not name). Exported for the differential test.
 */
export function readPath(start: Value, segments: readonly string[], withPath: boolean): (Value | Value[] | undefined)[] | null {
  const first = readElement(start, segments[0], withPath);
  if (first === null) return null;
  let level: (Value | Value[] | undefined)[] = [first];
  for (let s = 1; s < segments.length; s++) {
    const next: (Value | Value[] | undefined)[] = [];
    for (const d of level) {
      if (Array.isArray(d)) {
        for (const item of d) {
          const r = readElement(item, segments[s], withPath);
          if (r === null) return null;
          next.push(r);
        }
      } else if (withPath ? d?.value !== undefined : d !== undefined) {
        const r = readElement(d!, segments[s], withPath);
        if (r === null) return null;
        next.push(r);
      }
    }
    level = next;
  }
  return level;
}

/** One segment (Medplum's getTypedPropertyValue, and with paths its getTypedPropertyValueWithPath). */
function readElement(t: Value, name: string, withPath: boolean): Value | Value[] | undefined | null {
  const path = withPath ? (t.path ? `${t.path}.${name}` : name) : '';
  if (!t.value) return withPath ? { type: 'undefined', value: undefined, path } : undefined;
  const element = elementNamed(t.type, name);
  if (!element) return null;
  const read = readTyped(t.value as Record<string, unknown>, element, path);
  return read === undefined && withPath ? { type: 'undefined', value: undefined, path } : read;
}

/** Elements by name per type schema (a schema registered again is a new object, so nothing stale is kept). */
const elementsByName = new WeakMap<InternalTypeSchema, Map<string, InternalSchemaElement | undefined>>();

/** The element `name` of a type as Medplum finds it: by name, as a choice `name[x]`, or a choice's typed name. */
function elementNamed(type: string, name: string): InternalSchemaElement | undefined {
  const schema = tryGetDataType(type);
  if (!schema) return undefined;
  let named = elementsByName.get(schema);
  if (!named) elementsByName.set(schema, (named = new Map()));
  if (named.has(name)) return named.get(name);
  const elements = schema.elements;
  let found = elements[name] ?? elements[name + '[x]'];
  for (let i = 0; !found && i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) found = elements[name.slice(0, i) + '[x]'];
  }
  named.set(name, found);
  return found;
}

/** The JSON names an element may have, each with its type code, worked out once per element. */
const jsonNames = new WeakMap<InternalSchemaElement, { name: string; extension: string; code: string }[]>();

/**
 * An element's value with its type, as Medplum's getTypedPropertyValueWithSchema types it, at `path` (with `[i]` for
 * each item of an array); null for a `_name` merge, which Medplum does.
 */
function readTyped(object: Record<string, unknown>, element: InternalSchemaElement, path: string): Value | Value[] | undefined | null {
  let names = jsonNames.get(element);
  if (!names) {
    const last = element.path.slice(element.path.lastIndexOf('.') + 1);
    const choice = last.endsWith('[x]');
    const base = choice ? last.slice(0, -3) : last;
    names = (element.type ?? []).map((t) => {
      const name = choice ? base + capitalize(t.code) : base;
      return { name, extension: '_' + name, code: t.code };
    });
    jsonNames.set(element, names);
  }
  if (!names.length) return undefined;
  let raw: unknown;
  let code = 'undefined';
  for (const n of names) {
    if (object[n.extension] !== undefined) return null;
    raw = object[n.name];
    if (raw !== undefined) {
      code = n.code;
      break;
    }
  }
  if (isEmptyValue(raw)) return undefined;
  if (code === 'Element' || code === 'BackboneElement') code = names[0].code;
  const typeOf = (v: unknown): string => (code === 'Resource' && isResource(v) ? (v as { resourceType: string }).resourceType : code);
  if (!Array.isArray(raw)) return { type: typeOf(raw), value: raw, path };
  const values = new Array<Value>(raw.length);
  for (let i = 0; i < raw.length; i++) values[i] = { type: typeOf(raw[i]), value: raw[i], path: path && `${path}[${i}]` };
  return values;
}

function structure(expression: string, message: string): WalkIssue {
  return { severity: 'error', expression, message };
}

/** Medplum's isChoiceOfType: the choice element a JSON name belongs to, when the object holds a value of it. */
function choiceOf(key: string, choices: Map<string, Set<string>>, object: Record<string, unknown>): string | undefined {
  const underscore = key.charCodeAt(0) === 95;
  const name = underscore ? key.slice(1) : key;
  for (const [prefix, allowed] of choices) {
    if (!name.startsWith(prefix)) continue;
    const next = name.charCodeAt(prefix.length);
    if (name.length !== prefix.length && !(next >= 65 && next <= 90)) continue;
    for (const candidate of allowed) {
      if (object[candidate] !== undefined || object['_' + candidate] !== undefined) {
        if (isEmptyValue(object[candidate]) && object['_' + candidate] === undefined) return undefined;
        return (underscore ? '_' : '') + prefix + '[x]';
      }
    }
    return undefined;
  }
  return undefined;
}

function sliceOf(value: Value, slicing: SlicingRules): number {
  // Each discriminator's values read once, then tried against every slice.
  const found = slicing.discriminator.map((d) =>
    d.path === '$this' ? [value] : (readPath(value, segmentsOf(d.path), false) ?? (getNestedProperty(value, d.path) as (Value | Value[] | undefined)[])),
  );
  return slicing.slices.findIndex((slice) =>
    // Not flattened: Medplum's matchDiscriminant refuses a value that is an array, and so does this.
    slicing.discriminator.every((d, i) => found[i].some((v) => matchDiscriminant(v as TypedValue, d, slice))),
  );
}

/** Discriminator paths split once. */
const pathSegments = new Map<string, string[]>();
function segmentsOf(path: string): string[] {
  let segments = pathSegments.get(path);
  if (!segments) pathSegments.set(path, (segments = path.split('.')));
  return segments;
}

function matchesSpecifiedValue(value: Value | Value[], element: InternalSchemaElement): boolean {
  const typeAndValue = Array.isArray(value) ? value.map((v) => ({ type: v.type, value: v.value })) : { type: value.type, value: value.value };
  if (element.pattern && !deepIncludes(typeAndValue, element.pattern)) return false;
  if (element.fixed && !deepEquals(typeAndValue, element.fixed)) return false;
  return true;
}

function checkString(s: string, type: string, path: string, issues: WalkIssue[]): void {
  if (!s.trim()) {
    issues.push(structure(path, 'String must contain non-whitespace content'));
    return;
  }
  if (s.length > 1024 * 1024) {
    issues.push(structure(path, 'String cannot be larger than 1 MB'));
    return;
  }
  const regex = validationRegexes[type];
  if (regex && !regex.exec(s)) issues.push(structure(path, 'Invalid ' + type + ' format'));
  else if ((type === 'date' || type === 'dateTime' || type === 'instant') && !isValidCalendarDate(s)) issues.push(structure(path, 'Invalid ' + type + ' value'));
}

function checkNumber(n: number, type: string, path: string, issues: WalkIssue[]): void {
  const integer = type === 'integer' || type === 'positiveInt' || type === 'unsignedInt';
  if (Number.isNaN(n) || !Number.isFinite(n)) issues.push(structure(path, 'Invalid numeric value'));
  else if (integer && !Number.isInteger(n)) issues.push(structure(path, 'Expected number to be an integer'));
  else if (type === 'integer' && (n < -INT_MAX - 1 || n > INT_MAX)) issues.push(structure(path, `Expected number to be in the range ${-INT_MAX - 1}..${INT_MAX}`));
  else if (type === 'positiveInt' && (n < 1 || n > INT_MAX)) issues.push(structure(path, `Expected number to be in the range 1..${INT_MAX}`));
  else if (type === 'unsignedInt' && (n < 0 || n > INT_MAX)) issues.push(structure(path, `Expected number to be in the range 0..${INT_MAX}`));
}

function isBase64(s: string): boolean {
  const padding = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  return s.length > 0 && s.length % 4 === 0 && /^[A-Za-z\d+/]+$/.test(padding ? s.slice(0, -padding) : s);
}

function holdsNull(value: unknown): boolean {
  if (value === null) return true;
  if (Array.isArray(value)) {
    for (const v of value) if (v === undefined || holdsNull(v)) return true;
  } else if (typeof value === 'object') {
    for (const key in value) if (holdsNull((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

/** Medplum's checkObjectForNull: FHIR JSON has no nulls, except in a primitive array whose `_name` partner fills it. */
function checkForNull(object: Record<string, unknown>, path: string, issues: WalkIssue[]): void {
  for (const key in object) {
    const value = object[key];
    const at = `${path}.${key}`;
    if (value === null) issues.push(structure(at, 'Invalid null value'));
    else if (Array.isArray(value)) {
      const partner = object[key.startsWith('_') ? key.slice(1) : `_${key}`] as unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        if (value[i] === undefined) issues.push(structure(`${at}[${i}]`, 'Invalid undefined value'));
        else if (value[i] === null && !partner?.[i]) issues.push(structure(`${at}[${i}]`, 'Invalid null value'));
        else if (value[i] && typeof value[i] === 'object') checkForNull(value[i] as Record<string, unknown>, `${at}[${i}]`, issues);
      }
    } else if (typeof value === 'object') checkForNull(value as Record<string, unknown>, at, issues);
  }
}
