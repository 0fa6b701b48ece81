"""Times one GetAll of every lead (`select ID,TITLE`) through the Python
client (clients/python), items converted to Python values, or through the
bare generated stub, items left as the client receives them (JSON text,
items_as_json, as the client asks); after a bare read, also the client's
conversion of those same items (best of 3), which is what the client adds
to the read, measured apart from the machine's noise. Run by
tests/bench/clients_bench.sh, which resets the servers between reads.

usage: python_getall.py TARGET bare|client
Prints "ITEMS SECONDS [CONVERSION_SECONDS]"; the connection is made before
the clock starts."""

import json
import sys
import time

import grpc

from b24gate import Gateway
from b24gate._list_state import ListState
from b24gate._progress import progress_bar
from bitrix24.gateway.v1 import gateway_pb2 as pb
from bitrix24.gateway.v1 import gateway_pb2_grpc as pb_grpc

PARAMS = {"select": ["ID", "TITLE"]}


def bare(target):
    channel = grpc.insecure_channel(target)
    grpc.channel_ready_future(channel).result(timeout=10)
    stub = pb_grpc.GatewayServiceStub(channel)
    request = pb.GetAllRequest(method="crm.lead.list", params_json=json.dumps(PARAMS),
                               items_as_json=True)
    start = time.monotonic()
    messages = list(stub.GetAll(request))
    seconds = time.monotonic() - start
    items = sum(len(json.loads(m.items_json)) if m.items_json else len(m.items) for m in messages)
    return items, seconds, convert(messages)


def convert(messages):
    """What the client does to each message (ListState.take: its items to
    Python values, progress, cursor), timed apart: best of 3."""
    best = None
    for _ in range(3):
        state = ListState(progress_bar(False, "crm.lead.list"))
        start = time.monotonic()
        for message in messages:
            state.take(message)
        took = time.monotonic() - start
        best = took if best is None else min(best, took)
    return best


def client(target):
    gateway = Gateway(target)
    grpc.channel_ready_future(gateway._channel).result(timeout=10)
    start = time.monotonic()
    items = 0
    for _ in gateway.get_all("crm.lead.list", PARAMS, progress=False):
        items += 1
    return items, time.monotonic() - start, None


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("bare", "client"):
        sys.exit("usage: python_getall.py TARGET bare|client")
    items, seconds, conversion = (bare if sys.argv[2] == "bare" else client)(sys.argv[1])
    print("%d %.3f" % (items, seconds) + ("" if conversion is None else " %.3f" % conversion))


if __name__ == "__main__":
    main()
