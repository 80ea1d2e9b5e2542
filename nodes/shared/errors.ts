// Errors the nodes raise for a person to read. The text comes from the message catalogs (locales/en-US, locales/da),
// in the language Node-RED runs in; the key and its values stay on the error, so a flow's Catch node or a test can
// tell which error it is without parsing the text.
import type { NodeAPI } from 'node-red';

export type CatalogValues = Record<string, string | number>;

/** Node-RED's `RED._`: the catalog text of a key, with `__name__` placeholders filled in. */
export type Translate = (key: string, values?: CatalogValues) => string;

/** The catalog of what every node of this package shares, kept with the advis-site node's (nodes/shared has none). */
export const SHARED = '@advis-engine/node-red/advis-site:shared';

export class CatalogError extends Error {
  constructor(
    readonly key: string,
    readonly values: CatalogValues,
    translate: Translate,
    options?: ErrorOptions,
  ) {
    super(translate(key, values), options);
    this.name = 'CatalogError';
  }
}

/** `RED._` as a Translate (the node API types it loosely). */
export const translator = (RED: NodeAPI): Translate => (key, values) => RED._(key, values);
