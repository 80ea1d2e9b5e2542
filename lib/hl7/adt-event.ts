// The AdtEvent: one HL7 v2 ADT message read into plain, documented JSON (`msg.adt` in a flow).
//
// This is a public contract (docs/architecture.md, "Contracts"): integration engineers fix site quirks
// between `adt parse` and `advis` by editing these fields, so they are versioned and only ever extended.
// Every time is ISO 8601 with the Europe/Copenhagen offset (+01:00 / +02:00) unless the message carried its own.

/** The version of this shape; bumped on any incompatible change. */
export const ADT_EVENT_VERSION = 1;

/** How a CPR number was found, or why none was. */
export type CprStatus = 'valid' | 'missing' | 'invalid' | 'replacement';

/** What the patient class (PV1-2, with PV1-4) means for advis. */
export type StayClass = 'admitted' | 'acute-ambulant' | 'other';

/** What the discharge disposition (PV1-36) means for advis. */
export type Disposition = 'home' | 'transfer' | 'self-transport' | 'death';

/** The segments an AdtEvent is read from, besides MSH. */
export type AdtSegmentId = 'EVN' | 'PID' | 'PV1';

export interface AdtLocation {
  /** PV1-3.1 (point of care): the department code in the site directory. */
  pointOfCare: string | null;
  /** PV1-3.4 (facility): the hospital code in the site directory. */
  facility: string | null;
}

export interface AdtEvent {
  version: typeof ADT_EVENT_VERSION;
  /** Trigger event from MSH-9.2, e.g. `A01`. */
  event: string;
  /** MSH-10. */
  messageControlId: string;
  /** MSH-3.1 and MSH-4.1. */
  sendingApplication: string;
  sendingFacility: string;
  /** MSH-3 + MSH-4 + MSH-10: a repeated key replays the earlier outcome. */
  idempotencyKey: string;
  /** MSH-12. */
  hl7Version: string;
  /** MSH-18 as read (empty when absent: UTF-8 is assumed, or Latin-1 for bytes that are no valid UTF-8). */
  characterSet: string;
  /** Which of the segments the rules read (EVN, PID, PV1) the message lacks, so a "no advis" outcome can be traced. */
  missingSegments: AdtSegmentId[];

  patient: {
    /** A valid 10-digit CPR number, else null (see cprStatus). Personal data: never log it. */
    cpr: string | null;
    cprStatus: CprStatus;
    family: string | null;
    given: string[];
    /** Municipality of residence (kommunekode) padded to 4 digits, or null when none was found. */
    municipalityCode: string | null;
    deceased: boolean;
    deathTime: string | null;
  };

  visit: {
    /** PV1-19.1. */
    visitNumber: string | null;
    /** Visit number + MSH-4: the key that ties the ADT messages of one stay together. */
    stayKey: string | null;
    /** PV1-2 as sent. */
    patientClass: string;
    /** PV1-4 as sent. */
    admissionType: string;
    /** PV1-2 (with PV1-4) read against the site's code lists. */
    stayClass: StayClass;
    /** PV1-14 as sent. */
    admitSource: string;
    /** PV1-14 is one of the site's "transferred from another hospital of the region" codes. */
    transferredIn: boolean;
    location: AdtLocation;
    /** PV1-6. */
    priorLocation: AdtLocation;
    /** PV1-36 as sent, and what it means. */
    dischargeDispositionCode: string;
    disposition: Disposition;
    admitTime: string | null;
    dischargeTime: string | null;
    /** PV2-47: expected return from leave. */
    expectedLeaveReturn: string | null;
  };

  times: {
    /** EVN-6: when the event happened. */
    occurred: string | null;
    /** EVN-2: when it was recorded. */
    recorded: string | null;
    /** MSH-7. */
    message: string | null;
  };

  /**
   * The time the advis is about: EVN-6; else PV1-44 for admissions and their cancellation (A01, A04, A06, A07, A11;
   * not transfers, whose PV1-44 is still the original admission), PV1-45 for discharges (A03, A13), PID-29 for a
   * deceased patient; else EVN-2; else MSH-7. Null only when the message carries no usable time at all.
   */
  eventTime: string | null;
}
