// The outcome of one ADT message (`msg.advis` in a flow): the advis it gave, or "no advis" with a reason code.
// A public contract like AdtEvent: versioned, only ever extended.

import type { NoAdvisReason } from '../advis/reasons';
import type { AdvisType, Receiver } from '../advis/types';

export const ADVIS_OUTCOME_VERSION = 1;

export interface AdvisOutcome {
  version: typeof ADVIS_OUTCOME_VERSION;
  /** MSH-3|MSH-4|MSH-10 of the ADT message. */
  idempotencyKey: string;
  /** Its trigger event, e.g. `A01`. */
  event: string;
  stayKey: string | null;
  /** The advis sent, or null for none. */
  advis: AdvisType | null;
  /** Why no advis (only when advis is null). */
  reason?: NoAdvisReason;
  /** True when the advis is held for a configuration fix (unknown municipality or department), not dropped. */
  held?: boolean;
  /** For a pre-registration: when it will be decided (its event time). */
  deferredUntil?: string;
  /** True when this is the stored outcome of an earlier identical ADT message, replayed: nothing new was sent. */
  replayed?: boolean;
  messageHeaderId?: string;
  bundleId?: string;
  receiver?: Receiver;
  /** The EpisodeOfCare identifier value of the stay. */
  episodeId?: string;
}
