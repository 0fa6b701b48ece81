"""Channel settings shared by the sync and asyncio clients."""

import importlib.resources
import json

# Deadlines by method, and retries of UNAVAILABLE for the reads only (GetAll,
# GetById). Call, CallBatch and CallMany may write, so they are never retried:
# a write that came back OUTCOME_UNKNOWN may have run.
SERVICE_CONFIG = json.dumps(json.loads(
    importlib.resources.files("b24gate").joinpath("service_config.json").read_text()))

# A GetAll can sit silent for minutes while the portal's limits hold it back;
# pings every 5 minutes keep idle-timeout middleboxes from cutting it. gRPC
# servers refuse pings more frequent than every 5 minutes by default (they
# answer GOAWAY "too_many_pings"), so this is also the shortest safe interval.
KEEPALIVE_TIME_MS = 300_000
KEEPALIVE_TIMEOUT_MS = 20_000


def channel_options(extra=()):
    return [
        ("grpc.service_config", SERVICE_CONFIG),
        ("grpc.enable_retries", 1),
        ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
        ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
        ("grpc.http2.max_pings_without_data", 0),
        *extra,
    ]
