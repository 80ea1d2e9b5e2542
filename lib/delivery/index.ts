// Delivery's public face: the sink contract and the two transports. The outbox worker and the Node-RED nodes import
// from here, never from the files behind it.

export type { DeliveryReceipt, FailureReason, OutgoingMessage, Sink, SinkResponse } from './sink';
export type { ClientCredentials } from './oauth';
export { RestSink, type RestAuth, type RestSinkOptions, type TlsOptions } from './rest-sink';
export { VansFolderSink, VansInbox, type InboxFile, type InboxPoll, type InboxVerdict, type VansFolderOptions } from './vans-folder';
export { deadLetter, OutboxActionError, requeue } from './outbox-actions';
export { OutboxWorker, type AcknowledgementResult, type DeliveryEvent, type DeliveryEventType, type OutboxWorkerOptions, type Transport } from './outbox-worker';
