// Delivery's public face: the sink contract, the two transports, the outbox worker that drives the store's outbox
// through them, and the operator's actions on one message. The Node-RED nodes and the command line import from here,
// never from the files behind it.

export type { DeliveryReceipt, FailureReason, OutgoingMessage, Sink, SinkResponse } from './sink';
export type { ClientCredentials } from './oauth';
export { RestSink, type RestAuth, type RestSinkOptions, type TlsOptions } from './rest-sink';
export type { Inbox, InboxFile, InboxHandler, InboxPoll, InboxVerdict } from './vans-drop';
export { VansFolderSink, VansInbox, type VansFolderOptions } from './vans-folder';
export { SftpConnection, VansSftpInbox, VansSftpSink, type SftpConnectionOptions, type VansSftpOptions } from './vans-sftp';
export { deadLetter, OutboxActionError, requeue } from './outbox-actions';
export { OutboxWorker, type AcknowledgementResult, type DeliveryEvent, type DeliveryEventType, type OutboxWorkerOptions, type SinkContact, type Transport } from './outbox-worker';
