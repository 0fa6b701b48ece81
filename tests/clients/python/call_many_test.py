"""Unit tests of call_many's fallback over a fake stub: a gateway that answers
CallMany with UNIMPLEMENTED (nothing ran) gets the same parameter sets through
Call's bulk_params, in chunks, in order; any other failure is raised and
nothing is sent again."""

import json
import unittest

import grpc
from google.protobuf import json_format

from bitrix24.gateway.v1 import gateway_pb2 as pb

from b24gate import BitrixError, Gateway
from b24gate import client as client_module
from resume_test import FakeRpcError


class FakeStub:
    def __init__(self, call_many_code):
        self.call_many_code = call_many_code
        self.call_many_requests = []
        self.bulk_requests = []

    def CallMany(self, request, timeout=None):
        self.call_many_requests.append(request)

        def fail():
            raise FakeRpcError(self.call_many_code)
            yield  # a generator, like a stream call
        return fail()

    def Call(self, request, timeout=None):
        self.bulk_requests.append(request)
        response = pb.CallResponse()
        for params in request.bulk_params:
            result = response.results.add()
            p = json_format.MessageToDict(params)
            if p["id"] < 0:
                result.error.code, result.error.description, result.error.grpc_code = "NOT_FOUND", "no", 5
            else:
                result.result.number_value = p["id"] * 10
        return response


def gateway(stub):
    gw = Gateway("127.0.0.1:1")  # never dialled: the stub answers
    gw._stub = stub
    return gw


class CallManyFallbackTest(unittest.TestCase):
    def test_unimplemented_falls_back_to_bulk_call_in_order(self):
        stub = FakeStub(grpc.StatusCode.UNIMPLEMENTED)
        gw = gateway(stub)
        results = gw.call_many("crm.deal.get", [{"id": 1}, {"id": -1}, {"id": 3}])
        self.assertEqual(gw.call_many_path, "Call")
        self.assertEqual(results[0], 10)
        self.assertIsInstance(results[1], BitrixError)
        self.assertEqual(results[1].grpc_code, grpc.StatusCode.NOT_FOUND)
        self.assertEqual(results[2], 30)
        # The CallMany request carried params as JSON text, keys in order.
        self.assertEqual(list(stub.call_many_requests[0].params_json), ['{"id":1}', '{"id":-1}', '{"id":3}'])

    def test_the_fallback_is_sent_in_chunks(self):
        stub = FakeStub(grpc.StatusCode.UNIMPLEMENTED)
        n = client_module.FALLBACK_CHUNK * 2 + 7
        results = gateway(stub).call_many("crm.deal.get", [{"id": i} for i in range(n)])
        self.assertEqual(results, [i * 10 for i in range(n)])
        self.assertEqual([len(r.bulk_params) for r in stub.bulk_requests],
                         [client_module.FALLBACK_CHUNK, client_module.FALLBACK_CHUNK, 7])

    def test_other_failures_are_raised_and_nothing_is_sent_again(self):
        for code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.CANCELLED):
            stub = FakeStub(code)
            with self.assertRaises(BitrixError) as caught:
                gateway(stub).call_many("crm.deal.add", [{"id": 1}])
            self.assertEqual(caught.exception.grpc_code, code)
            self.assertEqual(stub.bulk_requests, [], code)

    def test_key_order_is_kept_in_params_json(self):
        stub = FakeStub(grpc.StatusCode.UNIMPLEMENTED)
        gateway(stub).call_many("crm.deal.list", [{"order": {"STAGE_ID": "ASC", "ID": "DESC"}, "id": 1}])
        text = stub.call_many_requests[0].params_json[0]
        self.assertEqual(list(json.loads(text)["order"]), ["STAGE_ID", "ID"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
