// FilesService from paths or Node streams: uploads and downloads a chunk at a
// time, so neither side ever holds a whole file; the SHA-256 of what was sent
// is compared with the one the gateway computed.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { stat, truncate } from "node:fs/promises";
import { once } from "node:events";
import { basename } from "node:path";
import type { Writable } from "node:stream";
import { Metadata, status, type CallOptions, type ClientWritableStream } from "@grpc/grpc-js";

import { BitrixError, fromRpcError } from "./errors.js";
import {
  DownloadFileRequest,
  UploadFileHeader,
  type DownloadFileResponse,
  type DownloadFileSummary,
  type FilesServiceClient,
  type UploadFileRequest,
  type UploadFileResponse,
} from "./gen/bitrix24/gateway/v1/files.js";

/** Bytes per message: well below gRPC's default 4 MiB limit. */
const CHUNK_SIZE = 1 << 20;

/** A file field of one CRM record: upload writes into it (crm.<entity>.update), download reads it. */
export interface RecordField {
  /** "deal", "lead", "contact", "company", or "item" (crm.item.*, with entityTypeId). */
  entityType: string;
  /** entityType "item" only: the record's entityTypeId (a smart process's). */
  entityTypeId?: number;
  recordId: number;
  /** The field's code, e.g. "UF_CRM_1638795037". */
  field: string;
  /** Downloads from a multiple field: which of its files (default the first). */
  index?: number;
  /** Uploads into a multiple field: add the file to those it holds (else it holds only this one). */
  append?: boolean;
}

export interface UploadOptions {
  /** A Drive folder (disk.folder.uploadfile); exactly one of folderId, storageId and recordField. */
  folderId?: number;
  /** A storage's root (disk.storage.uploadfile). */
  storageId?: number;
  /** A CRM record's file field: its value becomes this one file (or gains it, with `append`). */
  recordField?: RecordField;
  /** The file's name in the Drive; default a path's base name. */
  name?: string;
  /** Rename to "name (1).ext" when the name is taken, instead of failing. */
  generateUniqueName?: boolean;
  /** A Drive upload's access rights: taskId from disk.rights.getTasks, accessCode "U35", "G2", "DR12", "AU", ... */
  rights?: { taskId: number; accessCode: string }[];
  /** A Drive upload's media type, e.g. "application/pdf"; default application/octet-stream. */
  contentType?: string;
  /** The bytes the source will give, when known (default a path's size): the gateway checks it. */
  size?: number;
  /** Bytes per message; default 1 MiB. */
  chunkSize?: number;
  /** Called after each chunk with the bytes sent so far. */
  onProgress?: (sent: number) => void;
  /** Deadline in milliseconds from now; default the service config's. */
  timeoutMs?: number;
}

export interface UploadResult {
  /** Bitrix24's file object (ID, NAME, SIZE, ...); for a record's field, the field's value. */
  file: { [key: string]: unknown };
  size: number;
  /** Lower-case hex, checked against the bytes read. */
  sha256: string;
}

export interface DownloadOptions {
  /** Resume from this byte (a path is cut there and continued). */
  offset?: number;
  /** The file in a CRM record's file field instead of a Drive file (the file id is then 0). */
  recordField?: RecordField;
  /**
   * The file of an attached object (a file's attachment to a task, comment or other record, as the
   * record lists it) instead of a Drive file (the file id is then 0).
   */
  attachedObjectId?: number;
  /** Called after each chunk with the bytes written so far and the file's size (-1 unknown). */
  onProgress?: (written: number, total: number) => void;
  timeoutMs?: number;
}

export interface DownloadResult {
  name: string;
  /** The whole file's size; -1 when the portal did not say. */
  size: number;
  file: { [key: string]: unknown };
  written: number;
  /** The media type the portal serves the file with ("" when it names none). */
  contentType: string;
  /**
   * The gateway's SHA-256 (lower-case hex) of the bytes written (for a resumed download, those from
   * the offset on), checked against them; "" from a gateway that predates it.
   */
  sha256: string;
}

/** The source as chunks of at most `size` bytes. */
async function* chunks(source: AsyncIterable<Uint8Array | string>, size: number): AsyncGenerator<Buffer> {
  for await (const piece of source) {
    const buffer = typeof piece === "string" ? Buffer.from(piece) : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    for (let at = 0; at < buffer.length; at += size) yield buffer.subarray(at, at + size);
  }
}

async function header(portal: string, source: string | AsyncIterable<Uint8Array | string>,
                      o: UploadOptions): Promise<UploadFileHeader> {
  if ([o.folderId, o.storageId, o.recordField].filter((t) => t !== undefined).length !== 1) {
    throw new TypeError("upload: give exactly one of folderId, storageId and recordField");
  }
  const path = typeof source === "string" ? source : undefined;
  return UploadFileHeader.fromPartial({
    portal, folderId: o.folderId, storageId: o.storageId, recordField: o.recordField,
    generateUniqueName: o.generateUniqueName ?? false,
    rights: o.rights ?? [], contentType: o.contentType ?? "",
    name: o.name ?? (path !== undefined ? basename(path) : ""),
    size: o.size ?? (path !== undefined ? (await stat(path)).size : undefined),
  });
}

export async function upload(client: FilesServiceClient, portal: string,
                             source: string | AsyncIterable<Uint8Array | string>, o: UploadOptions,
                             callOptions: Partial<CallOptions>): Promise<UploadResult> {
  const first = await header(portal, source, o);
  const chunkSize = o.chunkSize ?? CHUNK_SIZE;
  let call!: ClientWritableStream<UploadFileRequest>;
  const response = new Promise<UploadFileResponse>((resolve, reject) => {
    call = client.uploadFile(new Metadata(), callOptions, (error, r) => (error ? reject(fromRpcError(error)) : resolve(r)));
  });
  response.catch(() => {});  // awaited below; a failure may come while we still write
  const digest = createHash("sha256");
  let sent = 0;
  try {
    call.write({ header: first });
    const input = typeof source === "string" ? createReadStream(source, { highWaterMark: chunkSize }) : source;
    for await (const chunk of chunks(input, chunkSize)) {
      digest.update(chunk);
      if (!call.write({ chunk })) await Promise.race([once(call, "drain"), response]);
      sent += chunk.length;
      o.onProgress?.(sent);
    }
  } catch (e) {
    call.cancel();  // a source that failed: the gateway stores nothing
    await response.catch(() => {});
    throw e;
  }
  call.end();
  const r = await response;
  if (r.sha256 !== digest.digest("hex")) {
    throw new BitrixError("CHECKSUM_MISMATCH", "the gateway's SHA-256 of the upload differs from what was sent",
      status.DATA_LOSS);
  }
  return { file: r.file ?? {}, size: r.size, sha256: r.sha256 };
}

async function sink(dest: string | Writable, offset: number): Promise<Writable> {
  if (typeof dest !== "string") return dest;
  if (offset > 0) await truncate(dest, offset);
  return createWriteStream(dest, offset > 0 ? { flags: "r+", start: offset } : { flags: "w" });
}

export async function download(client: FilesServiceClient, portal: string, fileId: number,
                               dest: string | Writable, o: DownloadOptions,
                               callOptions: Partial<CallOptions>): Promise<DownloadResult> {
  if ([fileId !== 0, o.attachedObjectId !== undefined, o.recordField !== undefined].filter(Boolean).length !== 1) {
    throw new TypeError("download: give exactly one of fileId (non-zero), attachedObjectId and recordField");
  }
  const offset = o.offset ?? 0;
  const out = await sink(dest, offset);
  const request = DownloadFileRequest.fromPartial({
    portal, fileId, offset, recordField: o.recordField, attachedObjectId: o.attachedObjectId,
  });
  const call = client.downloadFile(request, new Metadata(), callOptions);
  const result: DownloadResult = { name: "", size: -1, file: {}, written: 0, contentType: "", sha256: "" };
  const digest = createHash("sha256");
  let summary: DownloadFileSummary | undefined;
  try {
    for await (const message of call) {
      const m = message as DownloadFileResponse;
      if (m.header) {
        Object.assign(result, { name: m.header.name, size: m.header.size, file: m.header.file ?? {},
                                contentType: m.header.contentType });
      } else if (m.summary) {
        summary = m.summary;
      } else if (m.chunk) {
        digest.update(m.chunk);
        if (!out.write(m.chunk)) await once(out, "drain");
        result.written += m.chunk.length;
        o.onProgress?.(result.written, result.size);
      }
    }
  } catch (e) {
    call.cancel();
    throw fromRpcError(e);
  } finally {
    if (typeof dest === "string") {
      out.end();
      await once(out, "close");
    }
  }
  if (summary !== undefined) result.sha256 = checkSummary(summary, digest.digest("hex"), result.written);
  return result;
}

/**
 * The gateway's hash when it matches what was received; BitrixError CHECKSUM_MISMATCH (DATA_LOSS)
 * otherwise.
 */
export function checkSummary(summary: DownloadFileSummary, sha256: string, written: number): string {
  if (summary.sha256 !== sha256 || Number(summary.size) !== written) {
    throw new BitrixError("CHECKSUM_MISMATCH",
      `the bytes received (${written}, SHA-256 ${sha256}) differ from those the gateway sent ` +
      `(${summary.size}, SHA-256 ${summary.sha256})`, status.DATA_LOSS);
  }
  return summary.sha256;
}
