// BitrixError: the one error type of the client, for a failed RPC (thrown)
// and for a failed item of callMany, batch and getById (a value in the
// results, so the other items' outcomes are kept).
import { Metadata, status, type ServiceError } from "@grpc/grpc-js";

import { BadRequest, ErrorInfo } from "./gen/google/rpc/error_details.js";
import { Status } from "./gen/google/rpc/status.js";
import type { CommandError } from "./gen/bitrix24/gateway/v1/gateway.js";

const ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo";
const BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest";

/** One entry of a google.rpc.BadRequest. */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

export class BitrixError extends Error {
  /**
   * The Bitrix24 code ("ERROR_METHOD_NOT_FOUND", "ACCESS_DENIED"; "" for old
   * CRM methods), a gateway reason ("OUTCOME_UNKNOWN", "NOT_EXECUTED"), or the
   * gRPC code name when the status carried no ErrorInfo (a client-side
   * deadline, an unreachable gateway).
   */
  readonly code: string;
  readonly description: string;
  /** A @grpc/grpc-js `status` value. */
  readonly grpcCode: status;
  /** "bitrix24.com" for portal errors, "b24gate" for the gateway's, "" without ErrorInfo. */
  readonly domain: string;
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * The fields a REST 3.0 method refused (INVALID_ARGUMENT), or the request
   * fields the gateway did: the status's google.rpc.BadRequest.
   */
  readonly fieldViolations: readonly FieldViolation[];

  constructor(code: string, description: string, grpcCode: status, domain = "",
              metadata: Record<string, string> = {}, fieldViolations: FieldViolation[] = []) {
    super(`${code || status[grpcCode]}: ${description}`);
    this.name = "BitrixError";
    this.code = code;
    this.description = description;
    this.grpcCode = grpcCode;
    this.domain = domain;
    this.metadata = metadata;
    this.fieldViolations = fieldViolations;
  }

  /** A write that may have run (OUTCOME_UNKNOWN): never repeat it blindly. */
  get outcomeUnknown(): boolean {
    return this.code === "OUTCOME_UNKNOWN";
  }
}

function isServiceError(e: unknown): e is ServiceError {
  return typeof e === "object" && e !== null && "code" in e && "metadata" in e &&
    (e as ServiceError).metadata instanceof Metadata;
}

/** Converts what a gRPC call threw into a BitrixError (other errors pass through). */
export function fromRpcError(e: unknown): unknown {
  if (!isServiceError(e)) return e;
  const description = e.details ?? "";
  for (const bytes of e.metadata.get("grpc-status-details-bin")) {
    let details: Status;
    try {
      details = Status.decode(bytes as Buffer);
    } catch {
      continue;
    }
    const violations: FieldViolation[] = [];
    for (const any of details.details) {
      if (any.typeUrl !== BAD_REQUEST_TYPE) continue;
      for (const v of BadRequest.decode(any.value).fieldViolations) {
        violations.push({ field: v.field, description: v.description });
      }
    }
    for (const any of details.details) {
      if (any.typeUrl !== ERROR_INFO_TYPE) continue;
      const info = ErrorInfo.decode(any.value);
      // Old CRM methods have no code; the gateway names them CRM_ERROR and
      // keeps the code as sent in bitrix_error.
      const code = info.domain === "bitrix24.com" && "bitrix_error" in info.metadata
        ? info.metadata["bitrix_error"] : info.reason;
      return new BitrixError(code, info.metadata["description"] ?? description, e.code,
                             info.domain, info.metadata, violations);
    }
  }
  return new BitrixError(status[e.code] ?? String(e.code), description, e.code);
}

export function fromCommandError(e: CommandError): BitrixError {
  return new BitrixError(e.code, e.description, e.grpcCode as status);
}
