// Channel settings: the service config and keepalive.
import type { ChannelOptions } from "@grpc/grpc-js";

import { serviceConfig } from "./gen/service-config.js";

// A GetAll can sit silent for minutes while the portal's limits hold it back;
// pings every 5 minutes keep idle-timeout middleboxes from cutting it. gRPC
// servers refuse pings more frequent than every 5 minutes by default (GOAWAY
// "too_many_pings"), so this is also the shortest safe interval.
const KEEPALIVE_TIME_MS = 300_000;
const KEEPALIVE_TIMEOUT_MS = 20_000;

/**
 * Deadlines by method and retries of UNAVAILABLE for the reads only (GetAll,
 * GetById): Call, CallBatch and CallMany may write, and a write that came
 * back OUTCOME_UNKNOWN may have run.
 */
export function channelOptions(extra: ChannelOptions = {}): ChannelOptions {
  return {
    "grpc.service_config": JSON.stringify(serviceConfig),
    "grpc.enable_retries": 1,
    "grpc.keepalive_time_ms": KEEPALIVE_TIME_MS,
    "grpc.keepalive_timeout_ms": KEEPALIVE_TIMEOUT_MS,
    "grpc.http2.max_pings_without_data": 0,
    ...extra,
  };
}
