"""Unit tests of GetAll's resumption (b24gate.client.ListReader with
Resumption) over a fake stub: a stream broken by UNAVAILABLE continues from
its last resume cursor; other breaks, or breaks before any cursor, are
raised. No servers; sleeping is patched out."""

import unittest
from unittest import mock

import grpc

from bitrix24.gateway.v1 import gateway_pb2 as pb
from google.protobuf import struct_pb2

from b24gate import BitrixError
from b24gate._convert import ParamsEncoding
from b24gate._list_state import ListState, Resumption
from b24gate._progress import progress_bar
from b24gate.aio import AsyncListReader
from b24gate.client import ListReader


class FakeRpcError(grpc.RpcError):
    def __init__(self, code):
        super().__init__()
        self._code = code

    def code(self):
        return self._code

    def details(self):
        return "fake " + self._code.name

    def trailing_metadata(self):
        return ()


def message(items, cursor="", summary=False):
    m = pb.GetAllResponse(items=[struct_pb2.Value(number_value=i) for i in items], resume_cursor=cursor)
    if summary:
        m.summary.count = 4
    return m


class FakeStub:
    """Each GetAll call plays the next script: a list of messages, then an
    optional error code."""

    def __init__(self, *scripts):
        self.scripts = list(scripts)
        self.requests = []

    def start(self, request, timeout):
        self.requests.append((request.resume_cursor, timeout))
        messages, error = self.scripts.pop(0)

        def play():
            yield from messages
            if error is not None:
                raise FakeRpcError(error)
        return play()


def reader(stub, max_resumes=3, timeout=None):
    request = pb.GetAllRequest(method="crm.lead.list")
    return ListReader(stub.start, Resumption(request, timeout, max_resumes), request, timeout,
                      ListState(progress_bar(False, "test")))


@mock.patch("b24gate.client.time.sleep")
class ResumeTest(unittest.TestCase):
    def test_unavailable_after_a_cursor_continues_from_it(self, sleep):
        stub = FakeStub(([message([1, 2], "c1")], grpc.StatusCode.UNAVAILABLE),
                        ([message([3], "c2"), message([4], "c3", summary=True)], None))
        r = reader(stub)
        self.assertEqual(list(r), [1, 2, 3, 4])
        self.assertEqual([cursor for cursor, _ in stub.requests], ["", "c1"])
        self.assertEqual(r.resumes, 1)
        self.assertEqual(r.summary["count"], 4)
        sleep.assert_called_once()

    def test_the_cursor_moves_when_its_message_has_been_returned(self, sleep):
        stub = FakeStub(([message([1, 2], "c1"), message([3], "c2", summary=True)], None))
        r = reader(stub)
        self.assertEqual((next(r), r.resume_cursor), (1, ""))  # 2 not returned yet
        self.assertEqual((next(r), r.resume_cursor), (2, "c1"))
        self.assertEqual((next(r), r.resume_cursor), (3, "c2"))

    def test_the_latest_cursor_is_used_after_repeated_breaks(self, sleep):
        stub = FakeStub(([message([1], "c1")], grpc.StatusCode.UNAVAILABLE),
                        ([message([2], "c2")], grpc.StatusCode.UNAVAILABLE),
                        ([message([3], "c3", summary=True)], None))
        self.assertEqual(list(reader(stub)), [1, 2, 3])
        self.assertEqual([cursor for cursor, _ in stub.requests], ["", "c1", "c2"])

    def test_unavailable_before_any_cursor_is_raised(self, sleep):
        stub = FakeStub(([message([1, 2])], grpc.StatusCode.UNAVAILABLE))
        r = reader(stub)
        self.assertEqual(next(r), 1)
        self.assertEqual(next(r), 2)
        with self.assertRaises(BitrixError) as caught:
            next(r)
        self.assertEqual(caught.exception.grpc_code, grpc.StatusCode.UNAVAILABLE)
        self.assertEqual(len(stub.requests), 1)

    def test_other_codes_are_raised(self, sleep):
        for code in (grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED,
                     grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED):
            stub = FakeStub(([message([1], "c1")], code))
            with self.assertRaises(BitrixError) as caught:
                list(reader(stub))
            self.assertEqual(caught.exception.grpc_code, code)
            self.assertEqual(len(stub.requests), 1, code)

    def test_max_resumes_bounds_the_attempts(self, sleep):
        stub = FakeStub(*[([message([i], "c%d" % i)], grpc.StatusCode.UNAVAILABLE) for i in range(4)])
        r = reader(stub, max_resumes=2)
        with self.assertRaises(BitrixError):
            list(r)
        self.assertEqual(len(stub.requests), 3)  # the first call and 2 resumes
        self.assertEqual(r.resumes, 2)

    def test_max_resumes_zero_never_resumes(self, sleep):
        stub = FakeStub(([message([1], "c1")], grpc.StatusCode.UNAVAILABLE))
        with self.assertRaises(BitrixError):
            list(reader(stub, max_resumes=0))
        self.assertEqual(len(stub.requests), 1)

    def test_a_resumed_call_gets_what_is_left_of_the_timeout(self, sleep):
        stub = FakeStub(([message([1], "c1")], grpc.StatusCode.UNAVAILABLE),
                        ([message([2], "c2", summary=True)], None))
        list(reader(stub, timeout=30))
        (_, first), (_, second) = stub.requests
        self.assertEqual(first, 30)
        self.assertLess(second, 30 - 0.5 + 0.01)  # minus the backoff before it
        self.assertGreater(second, 25)

    def test_no_time_left_means_no_resume(self, sleep):
        stub = FakeStub(([message([1], "c1")], grpc.StatusCode.UNAVAILABLE))
        with self.assertRaises(BitrixError):
            list(reader(stub, timeout=0.2))  # the first backoff alone is 0.5 s
        self.assertEqual(len(stub.requests), 1)


class ItemsJsonTest(unittest.TestCase):
    """GetAll asks for its items as JSON text and reads either form."""

    def test_the_request_asks_for_json_items(self):
        request = ParamsEncoding().get_all_request("", "crm.lead.list", None, "", None, False, False, None)
        self.assertTrue(request.items_as_json)

    def test_json_items_and_value_items_read_alike(self):
        stub = FakeStub(([pb.GetAllResponse(items_json='[{"ID":"1","N":9007199254740993},2]',
                                            resume_cursor="c1"),
                          message([3], "c2", summary=True)], None))
        self.assertEqual(list(reader(stub)), [{"ID": "1", "N": 9007199254740993}, 2, 3])


class FakeAioCall:
    """What grpc.aio's stream call offers the reader: async iteration, cancel()."""

    def __init__(self, messages, error):
        self._messages, self._error = list(messages), error

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self._messages:
            return self._messages.pop(0)
        if self._error is not None:
            raise FakeAioRpcError(self._error)
        raise StopAsyncIteration

    def cancel(self):
        pass


class FakeAioRpcError(grpc.aio.AioRpcError):
    def __init__(self, code):
        super().__init__(code, grpc.aio.Metadata(), grpc.aio.Metadata(), "fake " + code.name)


@mock.patch("b24gate.aio.asyncio.sleep", new=mock.AsyncMock())
class AsyncResumeTest(unittest.IsolatedAsyncioTestCase):
    async def test_unavailable_after_a_cursor_continues_from_it(self):
        scripts = [([message([1, 2], "c1")], grpc.StatusCode.UNAVAILABLE),
                   ([message([3], "c2", summary=True)], None)]
        cursors = []

        def start(request, timeout):
            cursors.append(request.resume_cursor)
            return FakeAioCall(*scripts.pop(0))
        request = pb.GetAllRequest(method="crm.lead.list")
        reader = AsyncListReader(start, Resumption(request, None, 3), request, None,
                                 ListState(progress_bar(False, "test")))
        self.assertEqual([item async for item in reader], [1, 2, 3])
        self.assertEqual(cursors, ["", "c1"])
        self.assertEqual(reader.resumes, 1)

    async def test_cancelled_is_raised(self):
        request = pb.GetAllRequest(method="crm.lead.list")
        reader = AsyncListReader(lambda r, t: FakeAioCall([message([1], "c1")], grpc.StatusCode.CANCELLED),
                                 Resumption(request, None, 3), request, None,
                                 ListState(progress_bar(False, "test")))
        with self.assertRaises(BitrixError) as caught:
            [item async for item in reader]
        self.assertEqual(caught.exception.grpc_code, grpc.StatusCode.CANCELLED)


if __name__ == "__main__":
    unittest.main(verbosity=2)
