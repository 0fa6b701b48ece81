"""Times one GetAll of every lead through the Python client (clients/python),
items converted to Python values, and the same read through the bare
generated stub, items left as protobuf Structs: what the client adds.

usage: python_getall.py TARGET EMULATOR_CONTROL_URL [ROUNDS]
Prints one Markdown row per read, ROUNDS (default 1) times each, in turn."""

import json
import sys
import time
import urllib.request

import grpc

from b24gate import Gateway
from bitrix24.gateway.v1 import gateway_pb2 as pb
from bitrix24.gateway.v1 import gateway_pb2_grpc as pb_grpc

PARAMS = {"select": ["ID", "TITLE"]}


def reset(control):
    """Each read starts idle: the gateway's bucket drains (a read spends
    about 13 of its 50 requests, 2 a second drain), the emulator's is
    emptied with its counters."""
    time.sleep(8)
    request = urllib.request.Request(control + "/_emulator/reset", data=b"", method="POST")
    urllib.request.urlopen(request).read()


def bare(target):
    stub = pb_grpc.GatewayServiceStub(grpc.insecure_channel(target))
    request = pb.GetAllRequest(method="crm.lead.list", params_json=json.dumps(PARAMS))
    items = 0
    for message in stub.GetAll(request):
        items += len(message.items)
    return items


def client(target):
    gateway = Gateway(target)
    items = 0
    for _ in gateway.get_all("crm.lead.list", PARAMS, progress=False):
        items += 1
    return items


def main():
    target, control = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    for _ in range(rounds):
        for name, read in (("bare stub (Struct items)", bare), ("client (Python values)", client)):
            reset(control)
            start = time.monotonic()
            items = read(target)
            print("| Python | %s | %d | %.2f |" % (name, items, time.monotonic() - start))


if __name__ == "__main__":
    main()
