/** The XAPI client of pulumi-xenserver. See README.md in this folder for the contract. */
export { XapiClient, type XapiClientOptions, type CallAsyncOptions } from "./client";
export {
  XapiError,
  XapiTransportError,
  TransportErrorCodes,
  isXapiError,
  isTransportError,
  type TransportErrorCode,
} from "./errors";
export type { Watcher, WatchEvent, WatchHandler, WatchOptions, SyncReason } from "./events";
export type { XapiEvent, EventBatch } from "./event-types";
export type { ImportRawVdiOptions, ExportRawVdiOptions, VdiFormat } from "./http-vdi";
export type { TlsOptions, Logger } from "./tls";
export { normalizeFingerprint } from "./tls";
export type { TransportKind } from "./transport";
export { NULL_REF, isNullRef, type Ref } from "./ref";
export { formatXapiDate, parseXapiDate, type XapiDateTime } from "./datetime";
export * from "./generated/types";
