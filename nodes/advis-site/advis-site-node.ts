// What the `advis-site` config node offers the nodes that use it (a separate module because the node file itself
// must be a bare `export =` for Node-RED).
import type { Node } from 'node-red';
import type { Site } from '../../lib/advis/site';
import type { AdvisRuntime } from '../../lib/engine/runtime';

export interface AdvisSiteNode extends Node {
  /** The site, or throws an Error saying what is wrong with its configuration. */
  loadSite(): Site;
  /**
   * Reads the site configuration again (its file, which an operator may have fixed) and uses it from now on, for
   * parsing and deciding; throws an Error saying what is wrong and keeps the one in use if it is not valid.
   */
  reloadSite(): Promise<Site>;
  /**
   * The shared runtime (site, store, validator, engine), opened on first use. A failure to open it (the database not
   * reachable yet) is not kept: the next call tries again.
   */
  runtime(): Promise<AdvisRuntime>;
  /** Keeps the runtime open past this config node's close until the function returned is called (nodes/shared/holds.ts). */
  hold(): () => void;
}
