// Gateway: the TypeScript client of b24gate.
//
//   const gw = new Gateway("localhost:50051");
//   for await (const deal of gw.getAll("crm.deal.list", { select: ["ID", "TITLE"] })) console.log(deal);
//   gw.close();
//
// Failures reject/throw BitrixError. A Gateway may be shared by any number of
// concurrent calls.
import {
  credentials as grpcCredentials,
  InterceptingCall,
  type Interceptor,
  Metadata,
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type ClientReadableStream,
  type ServiceError,
  status,
} from "@grpc/grpc-js";

import type { Writable } from "node:stream";

import { channelOptions } from "./channel.js";
import { BitrixError, fromCommandError, fromRpcError } from "./errors.js";
import { Subscription, type SubscribeOptions } from "./events.js";
import * as files from "./files.js";
import { FilesServiceClient } from "./gen/bitrix24/gateway/v1/files.js";
import { EventServiceClient, EventSource, SubscribeStart } from "./gen/bitrix24/gateway/v1/events.js";
import {
  BatchCommand,
  CallBatchRequest,
  CallManyRequest,
  CallRequest,
  GatewayServiceClient,
  GetAllRequest,
  GetByIdRequest,
  ListStrategy,
  type CallBatchResponse,
  type CallResponse,
  type CallResult,
  type GetAllResponse,
  type GetByIdResponse,
  type CallManyResponse,
} from "./gen/bitrix24/gateway/v1/gateway.js";

/** JSON-shaped parameters, as in the Bitrix24 docs. */
export type Params = unknown;
/** The result of one item: its `result`, or the BitrixError it failed with. */
export type ItemResult = unknown | BitrixError;
/** A batch command: [method, params], or Bitrix24-style "method?query". */
export type Command = [method: string, params?: Params] | string;

export interface GatewayOptions {
  /** A configured portal's name; "" = the gateway's default. */
  portal?: string;
  /** TLS credentials; default plaintext. */
  credentials?: ChannelCredentials;
  /**
   * The client's bearer token, sent as "authorization: Bearer TOKEN" on every
   * call (gateways configured with API clients).
   */
  token?: string;
  /**
   * Send params as JSON text (params_json), which keeps key order (default);
   * false sends google.protobuf.Struct, for gateways older than params_json.
   */
  paramsAsJson?: boolean;
  /** Extra channel options, e.g. {"grpc.max_receive_message_length": N}. */
  channelOptions?: ChannelOptions;
}

export interface RpcOptions {
  /** Deadline in milliseconds from now; default: the service config's. */
  timeoutMs?: number;
}

export interface CallOptionsB24 extends RpcOptions {
  /** Send the params as one JSON request, never inside a batch. */
  raw?: boolean;
  /** The method is safe to repeat when its outcome is unknown. */
  idempotent?: boolean;
}

export interface GetAllOptions extends RpcOptions {
  itemsKey?: string;
  strategy?: "offset" | "keyset" | "parallel_keyset";
  /** Items in arrival order (faster), each still exactly once. */
  unordered?: boolean;
  /** Do not count the list (slow on big tables). */
  skipTotal?: boolean;
  /** Continue an earlier read (ListReader.resumeCursor). */
  resumeCursor?: string;
  /** Times a stream broken by UNAVAILABLE is continued from its last resume cursor; default 3. */
  maxResumes?: number;
  /** Called after each message. */
  onProgress?: (itemsSoFar: number, total: number | undefined) => void;
}

export interface ListSummary {
  count: number;
  total: number | undefined;
  totalMatched: boolean;
  strategy: string;
  warnings: string[];
}

const STRATEGIES = {
  offset: ListStrategy.LIST_STRATEGY_OFFSET,
  keyset: ListStrategy.LIST_STRATEGY_KEYSET,
  parallel_keyset: ListStrategy.LIST_STRATEGY_PARALLEL_KEYSET,
} as const;

// Parameter sets per Call when CallMany is not served (see callMany): keeps
// each answer well below gRPC's 4 MiB message limit for ordinary records.
const FALLBACK_CHUNK = 500;

type Callback<T> = (error: ServiceError | null, response: T) => void;

function callOptions(o: RpcOptions | undefined): Partial<CallOptions> {
  return o?.timeoutMs === undefined ? {} : { deadline: new Date(Date.now() + o.timeoutMs) };
}

function unary<T>(invoke: (md: Metadata, o: Partial<CallOptions>, cb: Callback<T>) => unknown,
                  o: RpcOptions | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    invoke(new Metadata(), callOptions(o), (error, response) =>
      error ? reject(fromRpcError(error)) : resolve(response));
  });
}

async function drain<T>(stream: ClientReadableStream<T>, each: (message: T) => void): Promise<void> {
  try {
    for await (const message of stream) each(message as T);
  } catch (e) {
    throw fromRpcError(e);
  }
}

function itemResult(r: CallResult): ItemResult {
  return r.error ? fromCommandError(r.error) : r.result;
}

/**
 * Adds the token to every call's metadata. An interceptor rather than call
 * credentials: grpc-js refuses call credentials on plaintext channels, and a
 * gateway on loopback may well be plaintext.
 */
export function bearerToken(token: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set("authorization", `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}

export class Gateway {
  private readonly client: GatewayServiceClient;
  private readonly events: EventServiceClient;
  private readonly files: FilesServiceClient;
  private readonly portal: string;
  private readonly paramsAsJson: boolean;
  /** Which RPC the last callMany used: "CallMany", or "Call" on gateways without it. */
  callManyPath: "CallMany" | "Call" | undefined;

  constructor(target: string, options: GatewayOptions = {}) {
    const interceptors = options.token ? [bearerToken(options.token)] : [];
    this.client = new GatewayServiceClient(target,
      options.credentials ?? grpcCredentials.createInsecure(),
      { ...channelOptions(options.channelOptions), interceptors });
    this.events = new EventServiceClient(target, grpcCredentials.createInsecure(),
      { channelOverride: this.client.getChannel(), interceptors });
    this.files = new FilesServiceClient(target, grpcCredentials.createInsecure(),
      { channelOverride: this.client.getChannel(), interceptors });
    this.portal = options.portal ?? "";
    this.paramsAsJson = options.paramsAsJson ?? true;
  }

  close(): void {
    this.client.close();
  }

  /** Calls one REST method; resolves to its `result` (T is the caller's claim about its shape). */
  async call<T = unknown>(method: string, params?: Params, options?: CallOptionsB24): Promise<T> {
    const request = CallRequest.fromPartial({
      portal: this.portal, method, raw: options?.raw ?? false, idempotent: options?.idempotent ?? false,
      ...this.valueParams(params),
    });
    const response = await unary<CallResponse>((md, o, cb) => this.client.call(request, md, o, cb), options);
    return response.result as T;
  }

  /**
   * Calls `method` once per parameter set; resolves to the results in the
   * same order, a failed item being a BitrixError value (not thrown), so the
   * outcome of every other item is kept.
   */
  async callMany<T = unknown>(method: string, paramsList: Params[], options?: CallOptionsB24):
      Promise<Array<T | BitrixError>> {
    const idempotent = options?.idempotent ?? false;
    const request = CallManyRequest.fromPartial({
      portal: this.portal, method, idempotent,
      ...(this.paramsAsJson ? { paramsJson: paramsList.map((p) => JSON.stringify(p)) } : { params: paramsList }),
    });
    const results: Array<T | BitrixError> = new Array(paramsList.length);
    try {
      await drain(this.client.callMany(request, new Metadata(), callOptions(options)),
        (message: CallManyResponse) => message.results.forEach((r, i) => {
          results[message.firstIndex + i] = itemResult(r) as T | BitrixError;
        }));
      this.callManyPath = "CallMany";
      return results;
    } catch (e) {
      // UNIMPLEMENTED comes before anything ran: sending the same sets
      // through Call cannot repeat a write.
      if (!(e instanceof BitrixError) || e.grpcCode !== status.UNIMPLEMENTED) throw e;
    }
    this.callManyPath = "Call";
    const fallback: Array<T | BitrixError> = [];
    for (let start = 0; start < paramsList.length; start += FALLBACK_CHUNK) {
      const bulk = CallRequest.fromPartial({
        portal: this.portal, method, idempotent, bulkParams: paramsList.slice(start, start + FALLBACK_CHUNK),
      });
      const response = await unary<CallResponse>((md, o, cb) => this.client.call(bulk, md, o, cb), options);
      fallback.push(...response.results.map((r) => itemResult(r) as T | BitrixError));
    }
    return fallback;
  }

  /**
   * Runs named commands as Bitrix24 batches; resolves to {key: result}, a
   * failed command being a BitrixError value. Later commands may refer to
   * earlier ones as "$result[key][...]"; with halt, commands after the first
   * failure are BitrixError("NOT_EXECUTED").
   */
  async batch(commands: Record<string, Command>, options?: RpcOptions & { halt?: boolean }):
      Promise<Record<string, ItemResult>> {
    const request = CallBatchRequest.fromPartial({
      portal: this.portal, halt: options?.halt ?? false,
      commands: Object.entries(commands).map(([key, command]) => typeof command === "string"
        ? BatchCommand.fromPartial({ key, method: command })
        : BatchCommand.fromPartial({ key, method: command[0], ...this.structParams(command[1]) })),
    });
    const response = await unary<CallBatchResponse>((md, o, cb) => this.client.callBatch(request, md, o, cb), options);
    const results: Record<string, ItemResult> = {};
    for (const entry of response.results) results[entry.key] = entry.result ? itemResult(entry.result) : undefined;
    return results;
  }

  /**
   * Subscribes `consumer` to the portal's events (EventService.Subscribe):
   * `for await (const event of gw.subscribe(...)) { ...; event.ack(); }`.
   */
  subscribe(consumer: string, events: string[], options: SubscribeOptions = {}): Subscription {
    const start = SubscribeStart.fromPartial({
      portal: this.portal, consumer, events, authConnector: options.authConnector ?? "",
      source: options.source ?? EventSource.EVENT_SOURCE_UNSPECIFIED,
    });
    return new Subscription(this.events.subscribe(new Metadata(), callOptions(options)), start);
  }

  /**
   * Uploads a file into a Drive folder or storage root, or into a CRM record's
   * file field (FilesService.UploadFile) from a path or any async iterable of bytes (a Node Readable), a chunk at a
   * time; rejects with CHECKSUM_MISMATCH when the gateway's SHA-256 differs.
   */
  upload(source: string | AsyncIterable<Uint8Array | string>, options: files.UploadOptions): Promise<files.UploadResult> {
    return files.upload(this.files, this.portal, source, options, callOptions(options));
  }

  /**
   * Downloads a Drive file (or with `recordField` and file id 0, a record's file)
   * into a path (cut at `offset` and continued) or a Writable.
   */
  download(fileId: number, dest: string | Writable, options: files.DownloadOptions = {}): Promise<files.DownloadResult> {
    return files.download(this.files, this.portal, fileId, dest, options, callOptions(options));
  }

  /** Reads a whole list: `for await (const item of gw.getAll(...))`. */
  getAll<T = unknown>(method: string, params?: Params, options: GetAllOptions = {}): ListReader<T> {
    const request = GetAllRequest.fromPartial({
      portal: this.portal, method, itemsKey: options.itemsKey ?? "",
      strategy: options.strategy ? STRATEGIES[options.strategy] : ListStrategy.LIST_STRATEGY_UNSPECIFIED,
      unordered: options.unordered ?? false, skipTotal: options.skipTotal ?? false, ...this.structParams(params),
    });
    const callOpts = callOptions(options);  // one deadline for the read, resumptions included
    return new ListReader<T>(
      (resumeCursor) => this.client.getAll({ ...request, resumeCursor }, new Metadata(), callOpts),
      options);
  }

  /** Calls a `.get`-style method per id; resolves to a Map id → result (or BitrixError), in the order of ids. */
  async getById<T = unknown>(method: string, ids: Array<string | number>,
                             options: RpcOptions & { idField?: string; params?: Params } = {}):
      Promise<Map<string | number, T | BitrixError>> {
    const request = GetByIdRequest.fromPartial({
      portal: this.portal, method, ids, idField: options.idField ?? "", ...this.structParams(options.params),
    });
    const results = new Map<string | number, T | BitrixError>();
    let position = 0;
    await drain(this.client.getById(request, new Metadata(), callOptions(options)), (message: GetByIdResponse) => {
      for (const entry of message.results) {
        results.set(ids[position++], entry.error ? fromCommandError(entry.error) : entry.result as T);
      }
    });
    return results;
  }

  // Call's `params` is a google.protobuf.Value; the others are Structs.
  private valueParams(params: Params): { paramsJson?: string; params?: unknown } {
    if (params === undefined) return {};
    return this.paramsAsJson ? { paramsJson: JSON.stringify(params) } : { params };
  }

  private structParams(params: Params): { paramsJson?: string; params?: { [key: string]: unknown } } {
    if (params === undefined) return {};
    return this.paramsAsJson ? { paramsJson: JSON.stringify(params) } : { params: params as { [key: string]: unknown } };
  }
}

/** Pause before the n-th resumption (0-based): 0.5 s doubling, at most 5 s. */
function resumeDelayMs(n: number): number {
  return Math.min(500 * 2 ** n, 5000);
}

/**
 * The items of a GetAll stream, as an async iterable. `summary` is set after
 * the last item; `total` as soon as the portal reports it. Leaving a
 * for-await loop early, or cancel(), stops the read on the gateway too; after
 * cancel() iteration ends quietly. A reader is iterated once.
 *
 * A stream broken by UNAVAILABLE (the connection or a gateway replica went
 * away) is continued from its last resume cursor, up to `maxResumes` times: a
 * read is safe to repeat, and the cursor points past every item already
 * delivered. gRPC's own retries cover failures before the first message.
 */
export class ListReader<T = unknown> implements AsyncIterable<T> {
  summary: ListSummary | undefined;
  total: number | undefined;
  itemsSoFar = 0;
  /** Past the last message whose items have all been yielded: getAll(..., { resumeCursor }) from it loses nothing. */
  resumeCursor: string;
  /** Times the stream broke and was continued from resumeCursor. */
  resumes = 0;
  private stream: ClientReadableStream<GetAllResponse>;
  private received: string;  // the newest cursor, waiting for its message's last item
  private finished = false;
  private cancelled = false;
  private readonly maxResumes: number;
  private readonly onProgress?: (itemsSoFar: number, total: number | undefined) => void;

  /** `start` opens a GetAll stream from a resume cursor ("" = the beginning). */
  constructor(private readonly start: (resumeCursor: string) => ClientReadableStream<GetAllResponse>,
              options: Pick<GetAllOptions, "resumeCursor" | "maxResumes" | "onProgress"> = {},
              private readonly delayMs: (n: number) => number = resumeDelayMs) {
    this.resumeCursor = options.resumeCursor ?? "";
    this.received = this.resumeCursor;
    this.maxResumes = options.maxResumes ?? 3;
    this.onProgress = options.onProgress;
    this.stream = this.open(this.resumeCursor);
  }

  cancel(): void {
    this.cancelled = true;
    this.stream.cancel();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.finished) return;
    try {
      for (;;) {
        try {
          for await (const message of this.stream) {
            const m = message as GetAllResponse;
            this.take(m);
            // The cursor moves with the message's last item, so a read resumed
            // from it loses nothing (a half-read message comes again).
            const items = m.items as T[];
            if (items.length === 0) this.resumeCursor = this.received;
            for (let i = 0; i < items.length; i++) {
              if (i === items.length - 1) this.resumeCursor = this.received;
              yield items[i];
            }
          }
          return;
        } catch (e) {
          const error = fromRpcError(e);
          if (this.cancelled && error instanceof BitrixError && error.grpcCode === status.CANCELLED) return;
          if (!(error instanceof BitrixError) || error.grpcCode !== status.UNAVAILABLE || !this.resumeCursor ||
              this.resumes >= this.maxResumes) {
            throw error;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, this.delayMs(this.resumes)));
        if (this.cancelled) return;
        this.resumes++;
        this.stream = this.open(this.resumeCursor);
      }
    } finally {
      this.finished = true;
      this.stream.cancel();  // no-op once the stream has ended
    }
  }

  private open(resumeCursor: string): ClientReadableStream<GetAllResponse> {
    const stream = this.start(resumeCursor);
    // A cancelled call emits an error event; without a listener Node would
    // treat it as unhandled when nobody is iterating.
    stream.on("error", () => {});
    return stream;
  }

  private take(m: GetAllResponse): void {
    if (m.progress) {
      this.itemsSoFar = m.progress.itemsSoFar;
      if (m.progress.total !== undefined) this.total = m.progress.total;
      this.onProgress?.(this.itemsSoFar, this.total);
    }
    if (m.resumeCursor) this.received = m.resumeCursor;
    if (m.summary) {
      this.summary = {
        count: m.summary.count, total: m.summary.total, totalMatched: m.summary.totalMatched,
        strategy: m.summary.strategy, warnings: m.summary.warnings,
      };
    }
  }
}
