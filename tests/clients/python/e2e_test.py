"""End-to-end tests of the Python client against a real b24gate and
b24-emulator (started by tests/clients/python_client_test.sh, which passes
B24GATE_TARGET and B24_EXPECTED_LEADS)."""

import asyncio
import hashlib
import io
import json
import os
import tempfile
import time
import unittest
import urllib.request

import grpc

from b24gate import BitrixError, Gateway
from b24gate.aio import AsyncGateway

TARGET = os.environ["B24GATE_TARGET"]
EXPECTED_LEADS = int(os.environ["B24_EXPECTED_LEADS"])
EMULATOR = os.environ["B24_EMULATOR_ADDR"]
TOKEN = os.environ["B24GATE_TOKEN"]
EMULATOR_URL = os.environ["B24_EMULATOR_URL"]


def gateway():
    return Gateway(TARGET, token=TOKEN)  # params travel as params_json


class TokenTest(unittest.TestCase):
    def test_without_the_token_calls_are_refused(self):
        with Gateway(TARGET) as anonymous:
            with self.assertRaises(BitrixError) as caught:
                anonymous.call("crm.lead.list", {"select": ["ID"]})
        self.assertEqual(caught.exception.grpc_code, grpc.StatusCode.UNAUTHENTICATED)
        with Gateway(TARGET, token="not-" + TOKEN) as wrong:
            with self.assertRaises(BitrixError) as caught:
                list(wrong.get_all("crm.deal.list", {"select": ["ID"]}))
        self.assertEqual(caught.exception.grpc_code, grpc.StatusCode.UNAUTHENTICATED)
        self.assertNotIn(TOKEN, str(caught.exception))


class SyncClientTest(unittest.TestCase):
    def setUp(self):
        self.gw = gateway()
        self.addCleanup(self.gw.close)

    def lead_ids(self, n):
        page = self.gw.call("crm.lead.list", {"select": ["ID"], "order": {"ID": "ASC"}})
        return [int(lead["ID"]) for lead in page[:n]]

    def test_call_returns_the_result_with_select_applied(self):
        page = self.gw.call("crm.lead.list", {"filter": {">ID": 0}, "select": ["ID", "TITLE"]})
        self.assertEqual(len(page), 50)
        self.assertEqual(set(page[0]), {"ID", "TITLE"})

    def test_multi_field_order_keeps_its_priority(self):
        select = ["ID", "STATUS_ID"]
        by_status = self.gw.call("crm.lead.list", {"order": {"STATUS_ID": "ASC", "ID": "DESC"}, "select": select})
        by_id = self.gw.call("crm.lead.list", {"order": {"ID": "DESC", "STATUS_ID": "ASC"}, "select": select})
        self.assertEqual(by_status, sorted(by_status, key=lambda r: (r["STATUS_ID"], -int(r["ID"]))))
        self.assertEqual(by_id, sorted(by_id, key=lambda r: -int(r["ID"])))
        self.assertNotEqual(by_status, by_id)

    def test_unknown_method_raises_bitrix_error_with_its_code(self):
        with self.assertRaises(BitrixError) as caught:
            self.gw.call("no.such.method")
        error = caught.exception
        self.assertEqual(error.code, "ERROR_METHOD_NOT_FOUND")
        self.assertEqual(error.grpc_code, grpc.StatusCode.NOT_FOUND)
        self.assertEqual(error.domain, "bitrix24.com")
        self.assertTrue(error.description)

    def test_rest3_validation_errors_name_each_field(self):
        # Portal "rest3" sends calls to REST 3.0 (servers.sh); the emulator
        # refuses an add without its required people, naming both fields.
        with Gateway(TARGET, token=TOKEN, portal="rest3") as rest3:
            with self.assertRaises(BitrixError) as caught:
                rest3.call("tasks.task.add", {"fields": {"title": "nobody's task"}})
        error = caught.exception
        self.assertEqual(error.grpc_code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(error.code, "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION")
        self.assertEqual([field for field, _ in error.field_violations], ["creatorId", "responsibleId"])
        self.assertIn("creatorId", error.field_violations[0][1])

    def test_get_all_reads_every_lead_once(self):
        reader = self.gw.get_all("crm.lead.list", {"select": ["ID", "TITLE"]}, progress=False)
        ids = [lead["ID"] for lead in reader]
        self.assertEqual(len(ids), EXPECTED_LEADS)
        self.assertEqual(len(set(ids)), EXPECTED_LEADS)
        self.assertEqual(reader.summary["count"], EXPECTED_LEADS)
        self.assertTrue(reader.summary["total_matched"])
        self.assertEqual(reader.total, EXPECTED_LEADS)

    def test_a_read_resumed_from_its_cursor_loses_and_repeats_nothing(self):
        reader = self.gw.get_all("crm.lead.list", {"select": ["ID"]}, progress=False)
        first, cursor = [], reader.resume_cursor
        for lead in reader:
            first.append(lead["ID"])
            if reader.resume_cursor != cursor:  # this lead ended a message
                cursor = reader.resume_cursor
                if len(first) >= 100:
                    break
        reader.cancel()
        self.assertLess(len(first), EXPECTED_LEADS, "the stream ended before a cursor past 100 leads")
        rest = [lead["ID"] for lead in self.gw.get_all("crm.lead.list", {"select": ["ID"]}, progress=False,
                                                       resume_cursor=cursor)]
        print("resumed after %d leads, %d more" % (len(first), len(rest)))
        self.assertEqual(set(first) & set(rest), set())
        self.assertEqual(len(first) + len(rest), EXPECTED_LEADS)
        self.assertEqual(len(set(first) | set(rest)), EXPECTED_LEADS)

    def test_get_all_options_reach_the_gateway(self):
        for strategy in ("offset", "keyset", "parallel_keyset"):
            reader = self.gw.get_all("crm.lead.list", {"select": ["ID"]}, progress=False, strategy=strategy)
            ids = [lead["ID"] for lead in reader]
            self.assertEqual(len(set(ids)), EXPECTED_LEADS, strategy)
            self.assertEqual(reader.summary["strategy"], strategy)
        reader = self.gw.get_all("crm.lead.list", {"select": ["ID"]}, progress=False, unordered=True,
                                 skip_total=True)
        self.assertEqual(len({lead["ID"] for lead in reader}), EXPECTED_LEADS)
        self.assertIsNone(reader.summary["total"])  # not counted

    def test_get_all_of_unknown_method_raises_on_iteration(self):
        with self.assertRaises(BitrixError) as caught:
            list(self.gw.get_all("no.such.list", progress=False))
        self.assertEqual(caught.exception.code, "ERROR_METHOD_NOT_FOUND")

    def test_cancelled_get_all_stops_and_the_gateway_keeps_serving(self):
        reader = self.gw.get_all("crm.lead.list", {"select": ["ID"]}, progress=False)
        first = [next(reader) for _ in range(10)]
        reader.cancel()
        self.assertEqual(len(first), 10)
        self.assertEqual(list(reader), [])
        self.assertEqual(len(self.gw.call("crm.lead.list", {"select": ["ID"]})), 50)

    def test_deadline_is_a_bitrix_error_with_deadline_exceeded(self):
        with self.assertRaises(BitrixError) as caught:
            list(self.gw.get_all("crm.lead.list", progress=False, timeout=0.001))
        self.assertEqual(caught.exception.grpc_code, grpc.StatusCode.DEADLINE_EXCEEDED)
        with self.assertRaises(BitrixError) as caught:
            self.gw.call("crm.lead.list", timeout=0.001)
        self.assertEqual(caught.exception.grpc_code, grpc.StatusCode.DEADLINE_EXCEEDED)

    def test_get_by_id_maps_ids_to_results_and_errors(self):
        first, second = self.lead_ids(2)
        results = self.gw.get_by_id("crm.lead.get", [first, second, 987654321])
        self.assertEqual(list(results), [first, second, 987654321])
        self.assertEqual(results[first]["ID"], str(first))
        self.assertEqual(results[second]["ID"], str(second))
        self.assertIsInstance(results[987654321], BitrixError)
        self.assertEqual(results[987654321].grpc_code, grpc.StatusCode.NOT_FOUND)

    def test_call_many_writes_in_order_and_reports_item_errors(self):
        deals = self.gw.call("crm.deal.list", {"select": ["ID"], "order": {"ID": "ASC"}})[:3]
        updates = [{"id": d["ID"], "fields": {"TITLE": "python call_many %d" % i}}
                   for i, d in enumerate(deals)]
        updates.append({"id": 987654321, "fields": {"TITLE": "nobody"}})
        results = self.gw.call_many("crm.deal.update", updates)
        print("call_many used", self.gw.call_many_path)
        self.assertEqual(self.gw.call_many_path, "CallMany")
        self.assertEqual(results[:3], [True, True, True])
        self.assertIsInstance(results[3], BitrixError)
        got = self.gw.get_by_id("crm.deal.get", [d["ID"] for d in deals])
        self.assertEqual([got[d["ID"]]["TITLE"] for d in deals],
                         ["python call_many %d" % i for i in range(3)])

    def test_call_many_of_hundreds_keeps_request_order(self):
        ids = [lead["ID"] for lead in self.gw.get_all("crm.lead.list", {"select": ["ID"]}, progress=False)]
        wanted = list(reversed(ids[:320]))  # not the list's own order
        results = self.gw.call_many("crm.lead.get", [{"id": i} for i in wanted])
        print("call_many of %d used %s" % (len(wanted), self.gw.call_many_path))
        self.assertEqual(self.gw.call_many_path, "CallMany")
        self.assertEqual([r["ID"] for r in results], wanted)

    def test_batch_resolves_references_and_halts(self):
        results = self.gw.batch({
            "last": ("crm.lead.list", {"select": ["ID"], "order": {"ID": "DESC"}}),
            "lead": ("crm.lead.get", {"id": "$result[last][0][ID]"}),
            "bad": "no.such.method",
        })
        self.assertEqual(list(results), ["last", "lead", "bad"])
        self.assertEqual(results["lead"]["ID"], results["last"][0]["ID"])
        self.assertIsInstance(results["bad"], BitrixError)
        self.assertEqual(results["bad"].code, "ERROR_METHOD_NOT_FOUND")

        halted = self.gw.batch({"bad": "no.such.method", "next": ("crm.lead.list", {})}, halt=True)
        self.assertEqual(halted["next"].code, "NOT_EXECUTED")


class FilesTest(unittest.TestCase):
    """upload_file / download_file: paths and file objects, byte for byte."""

    def setUp(self):
        self.gw = gateway()
        self.addCleanup(self.gw.close)
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def test_a_path_goes_up_and_comes_back_identical(self):
        data = os.urandom(3 * 1024 * 1024 + 17)
        with open(self.path("scan.pdf"), "wb") as f:
            f.write(data)
        up = self.gw.upload_file(self.path("scan.pdf"), folder_id=1, generate_unique_name=True,
                                 chunk_size=256 * 1024, progress=False)
        self.assertEqual(up["size"], len(data))
        self.assertEqual(up["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(up["file"]["SIZE"], str(len(data)))
        self.assertNotIn("DOWNLOAD_URL", up["file"])
        file_id = int(up["file"]["ID"])
        got = self.gw.download_file(file_id, self.path("back.pdf"), progress=False)
        self.assertEqual(got["size"], len(data))
        # The gateway's hash of what it streamed, checked by the helper, is the upload's.
        self.assertEqual(got["sha256"], up["sha256"])
        with open(self.path("back.pdf"), "rb") as f:
            self.assertEqual(f.read(), data)
        # Resumed from an offset into a file cut there: the hash covers the part streamed.
        with open(self.path("back.pdf"), "r+b") as f:
            f.truncate(1000)
        tail = self.gw.download_file(file_id, self.path("back.pdf"), offset=1000, progress=False)
        self.assertEqual(tail["sha256"], hashlib.sha256(data[1000:]).hexdigest())
        with open(self.path("back.pdf"), "rb") as f:
            self.assertEqual(f.read(), data)

    def test_a_file_attached_to_a_task_comes_back_by_its_attached_object_id(self):
        data = os.urandom(200 * 1024 + 3)
        up = self.gw.upload_file(io.BytesIO(data), folder_id=1, name="attached-%d.pdf" % time.time_ns(),
                                 size=len(data), progress=False)
        task = self.gw.call("tasks.task.add", {"fields": {"TITLE": "Sign the scan"}})
        attached = self.gw.call("tasks.task.files.attach",
                                {"taskId": task["task"]["id"], "fileId": int(up["file"]["ID"])})
        sink = io.BytesIO()
        got = self.gw.download_file(None, sink, attached_object_id=int(attached["attachmentId"]),
                                    progress=False)
        self.assertEqual(sink.getvalue(), data)
        self.assertEqual(got["sha256"], up["sha256"])
        self.assertEqual(got["file"]["ID"], str(attached["attachmentId"]))

    def test_file_objects_and_a_checked_size(self):
        data = b"0123456789" * 1000
        up = self.gw.upload_file(io.BytesIO(data), storage_id=1, name="digits-%d.txt" % time.time_ns(),
                                 size=len(data), progress=False)
        sink = io.BytesIO()
        self.gw.download_file(int(up["file"]["ID"]), sink, progress=False)
        self.assertEqual(sink.getvalue(), data)
        with self.assertRaises(BitrixError) as caught:
            self.gw.upload_file(io.BytesIO(data), folder_id=1, name="short.txt", size=len(data) + 1,
                                progress=False)
        self.assertEqual(caught.exception.grpc_code, grpc.StatusCode.INVALID_ARGUMENT)
        with self.assertRaises(ValueError):
            self.gw.upload_file(io.BytesIO(data), name="x.txt")

    def test_a_deals_file_field_goes_up_and_comes_back_identical(self):
        data = os.urandom(2 * 1024 * 1024 + 1)
        deal = self.gw.call("crm.deal.add", {"fields": {"TITLE": "with a scan"}})
        field = ("deal", deal, "UF_CRM_1700000103")  # the emulator's file field on deals
        up = self.gw.upload_file(io.BytesIO(data), record_field=field, name="scan.pdf",
                                 progress=False)
        self.assertEqual(up["sha256"], hashlib.sha256(data).hexdigest())
        self.assertNotIn("auth=", up["file"]["downloadUrl"])
        sink = io.BytesIO()
        got = self.gw.download_file(None, sink, record_field=field, progress=False)
        self.assertEqual(got["sha256"], up["sha256"])
        self.assertEqual(hashlib.sha256(sink.getvalue()).hexdigest(), up["sha256"])

    def test_rights_and_the_content_type_reach_the_drive(self):
        up = self.gw.upload_file(io.BytesIO(b"%PDF-1.4 ..."), folder_id=1,
                                 name="r-%d.pdf" % time.time_ns(), rights=[(42, "U1"), (38, "AU")],
                                 content_type="application/pdf", progress=False)
        kept = emulator("/_emulator/disk/files/%s" % up["file"]["ID"])
        self.assertEqual(kept["rights"], [{"TASK_ID": "42", "ACCESS_CODE": "U1"},
                                          {"TASK_ID": "38", "ACCESS_CODE": "AU"}])
        got = self.gw.download_file(int(up["file"]["ID"]), io.BytesIO(), progress=False)
        self.assertEqual(got["content_type"], "application/pdf")
        with self.assertRaises(BitrixError) as caught:
            self.gw.upload_file(io.BytesIO(b"x"), folder_id=1, name="x.pdf", rights=[(0, "U1")],
                                progress=False)
        self.assertEqual(caught.exception.grpc_code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("header.rights[0].task_id", str(caught.exception))

    def test_append_adds_to_a_deals_multiple_field(self):
        deal = self.gw.call("crm.deal.add", {"fields": {"TITLE": "with documents"}})
        field = ("deal", deal, "UF_CRM_1700000104")  # the emulator's multiple file field on deals
        parts = [os.urandom(100000 + i) for i in range(3)]
        ups = [self.gw.upload_file(io.BytesIO(p), record_field=field, name="part%d.bin" % i,
                                   append=True, progress=False) for i, p in enumerate(parts)]
        self.assertEqual(len({up["file"]["id"] for up in ups}), 3)
        for i, part in enumerate(parts):
            sink = io.BytesIO()
            self.gw.download_file(None, sink, record_field=field, index=i, progress=False)
            self.assertEqual(sink.getvalue(), part)
        with self.assertRaises(ValueError):
            self.gw.upload_file(io.BytesIO(b"x"), folder_id=1, name="x.txt", append=True)

    def test_a_smart_process_items_file_field_goes_up_and_comes_back_identical(self):
        data = os.urandom(1024 * 1024 + 2)
        item = self.gw.call("crm.item.add", {"entityTypeId": 128, "fields": {"title": "with files"}})
        # The emulator's multiple file field on its smart process (entityTypeId 128).
        field = ("item", item["item"]["id"], "ufCrm1_1700000300", 128)
        up = self.gw.upload_file(io.BytesIO(data), record_field=field, name="contract.pdf",
                                 progress=False)
        self.assertEqual(up["sha256"], hashlib.sha256(data).hexdigest())
        self.assertNotIn("auth=", up["file"]["urlMachine"])
        sink = io.BytesIO()
        self.gw.download_file(None, sink, record_field=field, progress=False)
        self.assertEqual(hashlib.sha256(sink.getvalue()).hexdigest(), up["sha256"])


def emulator(path, body=None):
    request = urllib.request.Request(EMULATOR + path, data=body, method="POST" if body is not None else "GET")
    with urllib.request.urlopen(request) as response:
        return json.load(response) if body is None else None


def requests_for(method):
    """The emulator's requests for `method` since its last reset (the gateway's
    offline reader polls the queue meanwhile, once a subscribe test made a group)."""
    return emulator("/_emulator/stats")["requests_by_method"].get(method, 0)


class ServiceConfigTest(unittest.TestCase):
    """The service config retries UNAVAILABLE for reads (GetAll) and never for
    Call, which may write. The gateway makes 2 attempts per read
    (max_attempts in servers.sh), so emulator requests = 2 x client attempts;
    every request fails with a 500 here."""

    def setUp(self):
        self.gw = gateway()
        self.addCleanup(self.gw.close)
        emulator("/_emulator/faults", b"500=1")
        self.addCleanup(emulator, "/_emulator/faults", b"none")
        emulator("/_emulator/reset", b"")

    def test_get_all_is_retried_on_unavailable(self):
        started = time.monotonic()
        with self.assertRaises(BitrixError) as caught:
            list(self.gw.get_all("crm.lead.list", progress=False))
        self.assertEqual(caught.exception.grpc_code, grpc.StatusCode.UNAVAILABLE)
        requests = requests_for("crm.lead.list")
        print("GetAll: %d emulator requests, %.1f s" % (requests, time.monotonic() - started))
        self.assertEqual(requests, 4 * 2)  # maxAttempts 4 in service-config.json

    def test_a_write_with_unknown_outcome_is_never_repeated(self):
        with self.assertRaises(BitrixError) as caught:
            self.gw.call("crm.deal.update", {"id": 1, "fields": {"TITLE": "once"}})
        self.assertEqual(caught.exception.code, "OUTCOME_UNKNOWN")
        self.assertTrue(caught.exception.outcome_unknown)
        self.assertEqual(caught.exception.grpc_code, grpc.StatusCode.UNAVAILABLE)
        self.assertEqual(requests_for("crm.deal.update"), 1)

    def test_a_read_through_call_is_not_retried_by_the_client(self):
        with self.assertRaises(BitrixError) as caught:
            self.gw.call("crm.lead.get", {"id": 1})
        self.assertEqual(caught.exception.grpc_code, grpc.StatusCode.UNAVAILABLE)
        self.assertEqual(requests_for("crm.lead.get"), 2)  # the gateway's two


class AsyncClientTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.gw = AsyncGateway(TARGET, token=TOKEN)

    async def asyncTearDown(self):
        await self.gw.close()

    async def test_every_rpc(self):
        page = await self.gw.call("crm.lead.list", {"select": ["ID"], "order": {"ID": "ASC"}})
        first, second = page[0]["ID"], page[1]["ID"]

        count = 0
        reader = self.gw.get_all("crm.lead.list", {"select": ["ID"]}, progress=False)
        async for _ in reader:
            count += 1
        self.assertEqual(count, EXPECTED_LEADS)
        self.assertEqual(reader.summary["count"], EXPECTED_LEADS)

        by_id = await self.gw.get_by_id("crm.lead.get", [first, second])
        self.assertEqual([r["ID"] for r in by_id.values()], [first, second])

        many = await self.gw.call_many("crm.lead.get", [{"id": first}, {"id": second}])
        print("async call_many used", self.gw.call_many_path)
        self.assertEqual(self.gw.call_many_path, "CallMany")
        self.assertEqual([r["ID"] for r in many], [first, second])

        batch = await self.gw.batch({"a": ("crm.lead.get", {"id": first}), "b": "crm.lead.get?id=" + second})
        self.assertEqual([batch["a"]["ID"], batch["b"]["ID"]], [first, second])

    async def test_error_deadline_and_cancel(self):
        with self.assertRaises(BitrixError) as caught:
            await self.gw.call("no.such.method")
        self.assertEqual(caught.exception.code, "ERROR_METHOD_NOT_FOUND")

        with self.assertRaises(BitrixError) as caught:
            async for _ in self.gw.get_all("crm.lead.list", progress=False, timeout=0.001):
                pass
        self.assertEqual(caught.exception.grpc_code, grpc.StatusCode.DEADLINE_EXCEEDED)

        reader = self.gw.get_all("crm.lead.list", {"select": ["ID"]}, progress=False)
        self.assertIsNotNone(await reader.__anext__())
        reader.cancel()
        self.assertEqual([item async for item in reader], [])
        self.assertEqual(len(await self.gw.call("crm.lead.list", {"select": ["ID"]})), 50)


class AsyncSink:
    """A destination whose write is a coroutine; `gate` (an asyncio.Event)
    holds every write until it is set."""

    def __init__(self, gate=None):
        self.data = bytearray()
        self.gate = gate
        self.first = asyncio.Event()

    async def write(self, chunk):
        self.first.set()
        if self.gate is not None:
            await self.gate.wait()
        self.data += chunk


class AsyncFilesTest(unittest.IsolatedAsyncioTestCase):
    """AsyncGateway.upload_file / download_file: paths, asyncio streams and
    a record's field, byte for byte; a cancelled download."""

    async def asyncSetUp(self):
        self.gw = AsyncGateway(TARGET, token=TOKEN)
        self.dir = tempfile.TemporaryDirectory()

    async def asyncTearDown(self):
        await self.gw.close()
        self.dir.cleanup()

    def path(self, name):
        return os.path.join(self.dir.name, name)

    async def test_a_path_goes_up_and_comes_back_identical(self):
        data = os.urandom(3 * 1024 * 1024 + 5)
        with open(self.path("scan.pdf"), "wb") as f:
            f.write(data)
        up = await self.gw.upload_file(self.path("scan.pdf"), folder_id=1, generate_unique_name=True,
                                       content_type="application/pdf", chunk_size=256 * 1024,
                                       progress=False)
        self.assertEqual((up["size"], up["sha256"]), (len(data), hashlib.sha256(data).hexdigest()))
        self.assertEqual(up["file"]["SIZE"], str(len(data)))
        file_id = int(up["file"]["ID"])
        got = await self.gw.download_file(file_id, self.path("back.pdf"), progress=False)
        self.assertEqual((got["name"], got["size"], got["content_type"]),
                         (up["file"]["NAME"], len(data), "application/pdf"))
        self.assertEqual(got["sha256"], up["sha256"])
        with open(self.path("back.pdf"), "r+b") as f:
            self.assertEqual(f.read(), data)
            f.truncate(4096)
        tail = await self.gw.download_file(file_id, self.path("back.pdf"), offset=4096,
                                           progress=False)
        self.assertEqual(tail["sha256"], hashlib.sha256(data[4096:]).hexdigest())
        with open(self.path("back.pdf"), "rb") as f:
            self.assertEqual(f.read(), data)

    async def test_asyncio_streams_and_a_deals_file_field(self):
        data = os.urandom(2 * 1024 * 1024 + 3)
        source = asyncio.StreamReader()
        source.feed_data(data)
        source.feed_eof()
        deal = await self.gw.call("crm.deal.add", {"fields": {"TITLE": "async scan"}})
        field = ("deal", deal, "UF_CRM_1700000103")  # the emulator's file field on deals
        up = await self.gw.upload_file(source, record_field=field, name="scan.pdf", size=len(data),
                                       progress=False)
        self.assertEqual(up["sha256"], hashlib.sha256(data).hexdigest())
        self.assertNotIn("auth=", up["file"]["downloadUrl"])
        sink = AsyncSink()
        await self.gw.download_file(None, sink, record_field=field, progress=False)
        self.assertEqual(bytes(sink.data), data)

    async def test_bad_input_raises_before_anything_is_sent(self):
        with self.assertRaises(ValueError):
            await self.gw.upload_file(io.BytesIO(b"x"), name="x.txt")
        with self.assertRaises(BitrixError) as caught:
            await self.gw.upload_file(io.BytesIO(b"x"), folder_id=1, name="a/b.txt", progress=False)
        self.assertEqual(caught.exception.grpc_code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("header.name", str(caught.exception))
        with self.assertRaises(BitrixError) as caught:
            await self.gw.download_file(987654321, io.BytesIO(), progress=False)
        self.assertEqual(caught.exception.grpc_code, grpc.StatusCode.NOT_FOUND)

    async def test_a_cancelled_download_stops_and_the_gateway_keeps_serving(self):
        data = os.urandom(8 * 1024 * 1024)
        up = await self.gw.upload_file(io.BytesIO(data), folder_id=1, progress=False,
                                       name="big-%d.bin" % time.time_ns())
        sink = AsyncSink(gate=asyncio.Event())  # never opened: the download stalls
        task = asyncio.ensure_future(
            self.gw.download_file(int(up["file"]["ID"]), sink, progress=False))
        await asyncio.wait_for(sink.first.wait(), 30)
        task.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await task
        self.assertEqual(len(sink.data), 0)
        whole = AsyncSink()
        await self.gw.download_file(int(up["file"]["ID"]), whole, progress=False)
        self.assertEqual(hashlib.sha256(whole.data).hexdigest(), up["sha256"])


def rest(method):
    """A REST method's result, asked of the emulator itself (not through the gateway)."""
    with urllib.request.urlopen(EMULATOR_URL + method) as response:
        return json.load(response)["result"]


def wait_until(predicate, what):
    for _ in range(300):
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("waited 30 s for " + what)


class SubscribeHelpers:
    """The subscribe helpers' tests, sync and async: deals added through the
    gateway arrive as events; acknowledged ones are never delivered again.
    Events of other tests' deals may arrive too: they are acknowledged and
    otherwise ignored."""

    def wait_bound(self):
        wait_until(lambda: any(b["event"] == "ONCRMDEALADD" for b in rest("event.get")),
                   "ONCRMDEALADD bound")

    def wait_stored(self):
        wait_until(lambda: not rest("event.offline.list"),
                   "the gateway to take the rows off the portal's queue")

    def check_second(self, got, first, new_id):
        """`got`: what the second subscription delivered up to the new deal's event."""
        self.assertFalse({e.delivery_id for e in got} & {e.delivery_id for e in first},
                         "acknowledged events delivered again: %r" % got)
        self.assertEqual(got[-1].record_id, new_id)
        self.assertEqual(got[-1].attempt, 1)


class SubscribeTest(unittest.TestCase, SubscribeHelpers):
    def setUp(self):
        self.gw = gateway()
        self.addCleanup(self.gw.close)

    def add_deal(self, title):
        return str(self.gw.call("crm.deal.add", {"fields": {"TITLE": title}}))

    def take_until(self, events, record_ids):
        """Acknowledges every event until all of `record_ids` arrived; returns those of the last."""
        got, waiting = [], set(record_ids)
        for event in events:
            event.ack()
            if event.record_id in record_ids:
                self.assertEqual(event.event, "ONCRMDEALADD")
                self.assertEqual(str(event.data["FIELDS"]["ID"]), event.record_id)
                got.append(event)
            waiting.discard(event.record_id)
            if not waiting:
                return got
        self.fail("the stream ended before records %s arrived" % waiting)

    def test_the_iterator_delivers_writes_and_acknowledged_events_never_return(self):
        with self.gw.subscribe("py-sync", ["ONCRMDEALADD"], timeout=60) as events:
            self.wait_bound()
            ids = [self.add_deal("py-sync %d" % i) for i in range(3)]
            first = self.take_until(events, ids)
            self.assertEqual(sorted(e.record_id for e in first), sorted(ids))
            self.wait_stored()
        with self.gw.subscribe("py-sync", ["ONCRMDEALADD"], timeout=60) as events:
            new_id = self.add_deal("py-sync later")
            got = []
            for event in events:
                event.ack()
                got.append(event)
                if event.record_id == new_id:
                    break
            self.check_second(got, first, new_id)


class AsyncSubscribeTest(unittest.IsolatedAsyncioTestCase, SubscribeHelpers):
    async def asyncSetUp(self):
        self.gw = AsyncGateway(TARGET, token=TOKEN)

    async def asyncTearDown(self):
        await self.gw.close()

    async def add_deal(self, title):
        return str(await self.gw.call("crm.deal.add", {"fields": {"TITLE": title}}))

    async def take_until(self, events, record_id):
        """Acknowledges every event until `record_id`'s arrived; returns them all."""
        got = []
        async for event in events:
            await event.ack()
            got.append(event)
            if event.record_id == record_id:
                return got
        self.fail("the stream ended before record %s arrived" % record_id)

    async def test_the_async_iterator_delivers_writes_and_acknowledged_events_never_return(self):
        async with self.gw.subscribe("py-aio", ["ONCRMDEALADD"], timeout=60) as events:
            await asyncio.get_running_loop().run_in_executor(None, self.wait_bound)
            ids = [await self.add_deal("py-aio %d" % i) for i in range(3)]
            got = await self.take_until(events, ids[-1])
            first = [e for e in got if e.record_id in ids]
            self.assertEqual([e.record_id for e in first], ids)  # one record each: queue order
            await asyncio.get_running_loop().run_in_executor(None, self.wait_stored)
        async with self.gw.subscribe("py-aio", ["ONCRMDEALADD"], timeout=60) as events:
            new_id = await self.add_deal("py-aio later")
            self.check_second(await self.take_until(events, new_id), first, new_id)


if __name__ == "__main__":
    unittest.main(verbosity=2)
