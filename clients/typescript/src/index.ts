// @b24gate/client: the TypeScript client of b24gate. Gateway wraps the
// generated stubs (./gen, ts-proto + @grpc/grpc-js); every failure is a
// BitrixError.
export { Gateway, ListReader } from "./gateway.js";
export type { Command, GatewayOptions, GetAllOptions, ItemResult, ListSummary, Params, RpcOptions } from "./gateway.js";
export type { DownloadOptions, DownloadResult, RecordField, UploadOptions, UploadResult } from "./files.js";
export { Subscription } from "./events.js";
export type { B24Event, SubscribeOptions } from "./events.js";
export { BitrixError } from "./errors.js";
export type { FieldViolation } from "./errors.js";
export { EventSource } from "./gen/bitrix24/gateway/v1/events.js";
export * as gatewayv1 from "./gen/bitrix24/gateway/v1/gateway.js";
