// The MedCom delivery layer: VANS envelopes, acknowledgements and the resend rules, for lib/delivery and the nodes.
export * from './acknowledgement';
export * from './envelope';
export * from './errors';
export { currentProvenance, messageHeaderOf, partyOf, readBundle, type Party, type WireFormat } from './message';
export * from './resend';
