// Why an ADT message gave no advis: a closed list (docs/architecture.md, "Contracts"), so every message
// has a traceable outcome that flows, audits and dashboards can switch on. docs/mapping.md documents each code.

export const NO_ADVIS_REASONS = {
  'no-cpr': 'the patient has no valid Danish CPR number (missing, invalid or a replacement CPR)',
  'no-danish-address': 'the patient has no Danish municipality of residence',
  'unknown-municipality': 'the municipality is not in the site directory: the advis is held until it is added',
  'unknown-department': 'the department (PV1-3) is not in the site directory: the advis is held until it is added',
  'no-visit-number': 'the message has no visit number (PV1-19), so it cannot be tied to a stay',
  'no-event-time': 'the message carries no usable event time',
  'not-advis-class': 'the patient class is neither admitted nor acute ambulant (PV1-2, PV1-4)',
  'ignored-event': 'the trigger event never gives an advis (e.g. A05, A14, A38, A54, A55)',
  'unsupported-event': 'the trigger event is not an ADT event the engine handles',
  'no-open-stay': 'the event refers to a stay the municipality has not been told about, or one already ended',
  'stay-already-started': 'a start advis was already sent for this stay',
  'same-hospital-transfer': 'a move within the same hospital gives no advis (S.BR5, S1.A2)',
  'discharge-to-transfer': 'a discharge to another hospital or a hospice gives no SLHJ (S.BR17)',
  'not-admitted': 'leave applies only to an admitted stay',
  'no-leave': 'the return or cancellation refers to a leave the municipality was not told about',
  'double-admission': 'leave during a psychiatric + somatic double admission gives no advis (S.BR14)',
  'nothing-to-cancel': 'the cancelled event gave no advis, so there is nothing to cancel',
  'nothing-changed': 'the update changes nothing the municipality was told (department or time of the latest advis)',
  'not-latest-advis': 'corrections and cancellations apply only to the most recent advis of the stay (S.BR22)',
  'pre-registration-cancelled': 'the event cancels a pre-registration that had not yet fallen due: both give no advis',
  deferred: 'the event lies in the future (pre-registration): it is decided when its time comes (S.BR13)',
  unreadable: 'the message could not be read as HL7 v2 ADT; the sender gets a negative acknowledgement',
  'invalid-notification': 'the advis built for the message failed MedCom validation and was not sent; the sender gets a negative acknowledgement',
} as const;

export type NoAdvisReason = keyof typeof NO_ADVIS_REASONS;

/** Reasons whose advis is held (kept and reported) rather than dropped: a configuration fix releases them. */
export const HELD_REASONS: readonly NoAdvisReason[] = ['unknown-municipality', 'unknown-department'];
