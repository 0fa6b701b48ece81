"""Unit tests of the file helpers (b24gate._files) over a fake FilesService
stub: the upload streams a header then chunks and checks the gateway's
SHA-256 against the bytes it read; the download writes the chunks in order,
counts them on the bar and checks them against the gateway's summary; the
clients' download_file (Gateway and AsyncGateway) asks for the file by id,
by attached object or by record field, exactly one of them."""

import asyncio
import hashlib
import io
import unittest

import grpc

from b24gate import BitrixError, Gateway
from b24gate.aio import AsyncGateway
from b24gate._files import DriveOptions, download, upload
from bitrix24.gateway.v1 import files_pb2


class FakeBar:
    def __init__(self):
        self.n = 0
        self.total = None
        self.closed = False

    def update(self, n):
        self.n += n

    def set_total(self, total):
        self.total = total

    def close(self):
        self.closed = True


class FakeStub:
    def __init__(self, sha256=None, chunks=(b"0123", b"456789"), summary=True):
        self.sha256 = sha256  # None: the true one
        self.messages = []
        self.chunks = chunks  # what DownloadFile streams
        self.summary = summary  # False: no summary (a gateway that predates it)
        self.requests = []  # the DownloadFile requests

    def UploadFile(self, messages, timeout=None):
        self.messages = list(messages)
        data = b"".join(m.chunk for m in self.messages[1:])
        response = files_pb2.UploadFileResponse(size=len(data))
        response.sha256 = self.sha256 or hashlib.sha256(data).hexdigest()
        response.file.update({"ID": "7", "SIZE": str(len(data))})
        return response

    def DownloadFile(self, request, timeout=None):
        self.requests.append(request)
        header = files_pb2.DownloadFileResponse()
        header.header.name = "a.bin"
        header.header.size = 10
        header.header.content_type = "text/plain"
        yield header
        for chunk in self.chunks:
            yield files_pb2.DownloadFileResponse(chunk=chunk)
        if self.summary:
            # What the gateway hashed: the true bytes, whatever the stream carried.
            yield files_pb2.DownloadFileResponse(summary=files_pb2.DownloadFileSummary(
                size=10, sha256=self.sha256 or hashlib.sha256(b"0123456789").hexdigest()))


class AsyncFakeStub:
    """FakeStub's DownloadFile as a grpc.aio stream."""

    def __init__(self):
        self.stub = FakeStub()

    def DownloadFile(self, request, timeout=None, metadata=None):
        async def stream():
            for message in self.stub.DownloadFile(request, timeout):
                yield message
        return stream()


class FilesTest(unittest.TestCase):
    def test_upload_streams_the_header_then_chunks(self):
        stub, bar = FakeStub(), FakeBar()
        result = upload(stub, "main", io.BytesIO(b"x" * 25), ("folder_id", 3), "a.bin", 25, False,
                        DriveOptions([(42, "U35")], "application/pdf"), 10, bar, None)
        self.assertEqual(stub.messages[0].header.folder_id, 3)
        self.assertEqual(stub.messages[0].header.size, 25)
        self.assertEqual([(r.task_id, r.access_code) for r in stub.messages[0].header.rights],
                         [(42, "U35")])
        self.assertEqual(stub.messages[0].header.content_type, "application/pdf")
        self.assertEqual([len(m.chunk) for m in stub.messages[1:]], [10, 10, 5])
        self.assertEqual(result["file"], {"ID": "7", "SIZE": "25"})
        self.assertEqual((bar.n, bar.closed), (25, True))

    def test_a_different_checksum_is_an_error(self):
        with self.assertRaises(BitrixError) as caught:
            upload(FakeStub(sha256="0" * 64), "", io.BytesIO(b"abc"), ("storage_id", 1), "a.bin",
                   None, False, None, 10, FakeBar(), None)
        self.assertEqual(caught.exception.code, "CHECKSUM_MISMATCH")
        self.assertEqual(caught.exception.grpc_code, grpc.StatusCode.DATA_LOSS)

    def test_download_writes_every_chunk_in_order(self):
        sink, bar = io.BytesIO(), FakeBar()
        request = files_pb2.DownloadFileRequest(file_id=7)
        header = download(FakeStub(), request, sink, bar, None)
        self.assertEqual(sink.getvalue(), b"0123456789")
        self.assertEqual((header["name"], header["content_type"]), ("a.bin", "text/plain"))
        self.assertEqual((bar.n, bar.total, bar.closed), (10, 10, True))
        self.assertEqual(header["sha256"], hashlib.sha256(b"0123456789").hexdigest())
        self.assertEqual(header["written"], 10)

    def test_a_corrupted_download_is_an_error(self):
        request = files_pb2.DownloadFileRequest(file_id=7)
        for chunks in ((b"0123", b"456788"), (b"0123", b"45678"), (b"0123", b"456789", b"x")):
            with self.subTest(chunks=chunks), self.assertRaises(BitrixError) as caught:
                download(FakeStub(chunks=chunks), request, io.BytesIO(), FakeBar(), None)
            self.assertEqual(caught.exception.code, "CHECKSUM_MISMATCH")
            self.assertEqual(caught.exception.grpc_code, grpc.StatusCode.DATA_LOSS)

    def test_a_download_without_a_summary_has_no_hash(self):
        got = download(FakeStub(summary=False), files_pb2.DownloadFileRequest(file_id=7),
                       io.BytesIO(), FakeBar(), None)
        self.assertEqual((got["sha256"], got["written"]), ("", 10))


class DownloadTargetTest(unittest.TestCase):
    def gateway(self):
        gw = Gateway("127.0.0.1:1", portal="main")  # never dialled: the stub answers
        gw._files = FakeStub()
        return gw

    def test_download_by_attached_object_id(self):
        gw, sink = self.gateway(), io.BytesIO()
        got = gw.download_file(None, sink, attached_object_id=12, progress=False)
        request = gw._files.requests[0]
        self.assertEqual((request.portal, request.attached_object_id, request.file_id), ("main", 12, 0))
        self.assertFalse(request.HasField("record_field"))
        self.assertEqual((sink.getvalue(), got["written"]), (b"0123456789", 10))

    def test_download_names_exactly_one_file(self):
        gw = self.gateway()
        for args, kwargs in (((None,), {}), ((7,), {"attached_object_id": 12}),
                             ((None,), {"attached_object_id": 12,
                                        "record_field": ("deal", 1, "UF_CRM_FILE")})):
            with self.subTest(args=args, kwargs=kwargs), self.assertRaises(ValueError):
                gw.download_file(*args, io.BytesIO(), progress=False, **kwargs)
        self.assertEqual(gw._files.requests, [])
        gw.download_file(7, io.BytesIO(), progress=False)
        self.assertEqual((gw._files.requests[0].file_id, gw._files.requests[0].attached_object_id), (7, 0))

    def test_async_download_by_attached_object_id(self):
        async def run():
            gw = AsyncGateway("127.0.0.1:1", portal="main")
            gw._files = AsyncFakeStub()
            sink = io.BytesIO()
            got = await gw.download_file(None, sink, attached_object_id=12, progress=False)
            with self.assertRaises(ValueError):
                await gw.download_file(3, io.BytesIO(), attached_object_id=12, progress=False)
            await gw.close()
            return gw._files.stub.requests, sink.getvalue(), got
        requests, data, got = asyncio.run(run())
        self.assertEqual(len(requests), 1)
        self.assertEqual((requests[0].attached_object_id, requests[0].file_id), (12, 0))
        self.assertEqual((data, got["written"]), (b"0123456789", 10))


if __name__ == "__main__":
    unittest.main()
