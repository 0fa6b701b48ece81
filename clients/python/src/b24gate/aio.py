"""AsyncGateway: the asyncio client (grpc.aio), the same methods as Gateway.

    from b24gate.aio import AsyncGateway
    async with AsyncGateway("localhost:50051") as gw:
        async for deal in gw.get_all("crm.deal.list", {"select": ["ID", "TITLE"]}):
            print(deal["ID"], deal["TITLE"])

Thread-safety: use an AsyncGateway from the event loop that created it.
"""

import asyncio

import grpc
import grpc.aio

from bitrix24.gateway.v1 import events_pb2_grpc, files_pb2_grpc, gateway_pb2_grpc
from b24gate import _convert, _events, _files
from b24gate._channel import channel_options
from b24gate._token import token_metadata
from b24gate._list_state import ListState, Resumption
from b24gate._progress import progress_bar
from b24gate.client import FALLBACK_CHUNK
from b24gate.errors import from_rpc_error


class AsyncGateway:
    """See b24gate.Gateway for the arguments; every method is a coroutine
    except get_all, which returns an async iterator."""

    def __init__(self, target, *, portal="", credentials=None, token=None, params_as_json=True,
                 options=()):
        opts = channel_options(options)
        if credentials is None:
            self._channel = grpc.aio.insecure_channel(target, options=opts)
        else:
            self._channel = grpc.aio.secure_channel(target, credentials, options=opts)
        # Per-call metadata rather than an aio interceptor: grpcio 1.51's
        # intercepted streams end silently instead of raising when their
        # deadline passes.
        self._metadata = token_metadata(token)
        self._stub = gateway_pb2_grpc.GatewayServiceStub(self._channel)
        self._events = events_pb2_grpc.EventServiceStub(self._channel)
        self._files = files_pb2_grpc.FilesServiceStub(self._channel)
        self._portal = portal
        self._encoding = _convert.ParamsEncoding(params_as_json)
        self.call_many_path = None

    async def close(self):
        await self._channel.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def call(self, method, params=None, *, raw=False, idempotent=False, timeout=None):
        request = self._encoding.call_request(self._portal, method, params, raw, idempotent)
        try:
            reply = await self._stub.Call(request, timeout=timeout, metadata=self._metadata)
            return _convert.call_response_result(reply)
        except grpc.aio.AioRpcError as e:
            raise from_rpc_error(e) from None

    async def call_many(self, method, params_list, *, idempotent=False, timeout=None):
        params_list = list(params_list)
        request = self._encoding.call_many_request(self._portal, method, params_list, idempotent)
        results = [None] * len(params_list)
        try:
            stream = self._stub.CallMany(request, timeout=timeout, metadata=self._metadata)
            async for message in stream:
                for offset, result in enumerate(message.results):
                    results[message.first_index + offset] = _convert.result_or_error(result)
            self.call_many_path = "CallMany"
            return results
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.UNIMPLEMENTED:  # see Gateway.call_many
                raise from_rpc_error(e) from None
        self.call_many_path = "Call"
        results = []
        try:
            for start in range(0, len(params_list), FALLBACK_CHUNK):
                chunk = params_list[start:start + FALLBACK_CHUNK]
                bulk = self._encoding.bulk_call_request(self._portal, method, chunk, idempotent)
                reply = await self._stub.Call(bulk, timeout=timeout, metadata=self._metadata)
                results += _convert.bulk_results(reply)
        except grpc.aio.AioRpcError as e:
            raise from_rpc_error(e) from None
        return results

    async def batch(self, commands, *, halt=False, timeout=None):
        request = self._encoding.batch_request(self._portal, commands, halt)
        try:
            reply = await self._stub.CallBatch(request, timeout=timeout, metadata=self._metadata)
            return _convert.batch_results(reply)
        except grpc.aio.AioRpcError as e:
            raise from_rpc_error(e) from None

    def get_all(self, method, params=None, *, progress=True, items_key="", strategy=None,
                unordered=False, skip_total=False, resume_cursor=None, max_resumes=3, timeout=None):
        request = self._encoding.get_all_request(self._portal, method, params, items_key, strategy,
                                                 unordered, skip_total, resume_cursor)
        return AsyncListReader(lambda r, t: self._stub.GetAll(r, timeout=t, metadata=self._metadata),
                               Resumption(request, timeout, max_resumes), request, timeout,
                               ListState(progress_bar(progress, method), resume_cursor))

    async def get_by_id(self, method, ids, *, id_field="", params=None, timeout=None):
        ids = list(ids)
        request = self._encoding.get_by_id_request(self._portal, method, ids, id_field, params)
        results = {}
        position = 0
        try:
            stream = self._stub.GetById(request, timeout=timeout, metadata=self._metadata)
            async for message in stream:
                for entry in message.results:
                    results[ids[position]] = _convert.result_or_error(entry)
                    position += 1
        except grpc.aio.AioRpcError as e:
            raise from_rpc_error(e) from None
        return results

    async def upload_file(self, source, *, folder_id=None, storage_id=None, record_field=None,
                          name=None, size=None, generate_unique_name=False, append=False,
                          rights=None, content_type=None, progress=True,
                          chunk_size=_files.CHUNK_SIZE, timeout=None):
        """Gateway.upload_file. `source` is a path, a binary file object (read
        in a worker thread, so the event loop never waits on the disk) or an
        object whose read(n) is a coroutine (an asyncio.StreamReader, ...)."""
        target = _files.target(folder_id, storage_id, record_field, append)
        return await _files.upload_async(self._files, self._metadata, self._portal, source, target,
                                         name, size, generate_unique_name,
                                         _files.DriveOptions(rights, content_type), chunk_size,
                                         progress_bar(progress, name or "upload", unit="B"),
                                         timeout)

    async def download_file(self, file_id, dest, *, record_field=None, index=0,
                            attached_object_id=None, offset=0, progress=True, timeout=None):
        """Gateway.download_file. `dest` is a path, a binary file object
        (written in a worker thread) or an object whose write(data) is a
        coroutine. Cancelling the awaiting task stops the transfer."""
        request = _files.download_request(self._portal, file_id, record_field, index, offset,
                                          attached_object_id)
        return await _files.download_async(self._files, self._metadata, request, dest,
                                           progress_bar(progress, "download", unit="B"), timeout)

    def subscribe(self, consumer, events, *, auth_connector="", source=None, timeout=None):
        """Gateway.subscribe as an async iterator; `await event.ack()`.

            async with gw.subscribe("crm-sync", ["ONCRMDEALADD"]) as events:
                async for event in events:
                    await handle(event.record_id)
                    await event.ack()"""
        start = _events.start_request(self._portal, consumer, events, auth_connector, source)
        return _events.AsyncSubscription(self._events, start, timeout, self._metadata)


class AsyncListReader:
    """Async iterator over a GetAll stream; see b24gate.client.ListReader."""

    def __init__(self, start, resumption, request, timeout, state):
        self._start = start  # (request, timeout) -> a GetAll call
        self._resumption = resumption
        self._call = start(request, timeout)
        self._state = state
        self._messages = self._call.__aiter__()
        self._buffer = []
        self._position = 0
        self._done = False

    @property
    def summary(self):
        return self._state.summary

    @property
    def total(self):
        return self._state.total

    @property
    def resume_cursor(self):
        return self._state.resume_cursor

    @property
    def resumes(self):
        return self._resumption.count

    def __aiter__(self):
        return self

    async def __anext__(self):
        while self._position >= len(self._buffer):
            if self._done:
                raise StopAsyncIteration
            try:
                message = await self._messages.__anext__()
            except StopAsyncIteration:
                self._finish()
                raise
            except grpc.aio.AioRpcError as e:
                attempt = None if self._done else self._resumption.next(e.code(), self._state.resume_cursor)
                if attempt is None:
                    self._finish()
                    raise from_rpc_error(e) from None
                request, timeout, delay = attempt
                await asyncio.sleep(delay)
                self._call = self._start(request, timeout)
                self._messages = self._call.__aiter__()
                continue
            self._buffer = self._state.take(message)
            self._position = 0
            if not self._buffer:
                self._state.delivered()
        item = self._buffer[self._position]
        self._position += 1
        if self._position == len(self._buffer):
            self._state.delivered()
        return item

    def cancel(self):
        self._call.cancel()
        self._finish()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.cancel()

    def _finish(self):
        self._done = True
        self._buffer, self._position = [], 0
        self._state.bar.close()
