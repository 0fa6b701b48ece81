"""Gateway: the synchronous client.

    from b24gate import Gateway
    with Gateway("localhost:50051") as gw:
        for deal in gw.get_all("crm.deal.list", {"select": ["ID", "TITLE"]}):
            print(deal["ID"], deal["TITLE"])

Thread-safety: a Gateway may be shared by threads (gRPC channels are); a
ListReader belongs to the thread iterating it.
"""

import time

import grpc

from bitrix24.gateway.v1 import events_pb2_grpc, files_pb2_grpc, gateway_pb2_grpc
from b24gate import _convert, _events, _files
from b24gate._channel import channel_options
from b24gate._list_state import ListState, Resumption
from b24gate._progress import progress_bar
from b24gate._token import BearerToken
from b24gate.errors import from_rpc_error

# Parameter sets per Call when CallMany is not served (see call_many): keeps
# each answer well below gRPC's 4 MiB message limit for ordinary records.
FALLBACK_CHUNK = 500


class Gateway:
    """A connection to b24gate.

    target:         "host:port".
    portal:         the configured portal to use; "" = the gateway's default.
    credentials:    grpc.ChannelCredentials for TLS; None = plaintext.
    token:          the client's bearer token, sent as "authorization: Bearer
                    TOKEN" on every call (gateways configured with clients);
                    None = no token.
    params_as_json: send params as JSON text (params_json), which keeps key
                    order; False sends google.protobuf.Struct, for gateways
                    that predate params_json.
    options:        extra channel options, e.g. [("grpc.max_receive_message_length", N)].

    Every method takes `timeout` (seconds); without it the deadlines of the
    service config apply (Call 300 s, CallBatch 600 s, GetAll 2 h, ...).
    Failures raise BitrixError.
    """

    def __init__(self, target, *, portal="", credentials=None, token=None, params_as_json=True,
                 options=()):
        opts = channel_options(options)
        if credentials is None:
            self._channel = grpc.insecure_channel(target, options=opts)
        else:
            self._channel = grpc.secure_channel(target, credentials, options=opts)
        calls = grpc.intercept_channel(self._channel, BearerToken(token)) if token else self._channel
        self._stub = gateway_pb2_grpc.GatewayServiceStub(calls)
        self._files = files_pb2_grpc.FilesServiceStub(calls)
        self._events = events_pb2_grpc.EventServiceStub(calls)
        self._portal = portal
        self._encoding = _convert.ParamsEncoding(params_as_json)
        # Which RPC the last call_many used: "CallMany", or "Call" when the
        # gateway does not serve CallMany. Informational; with several threads
        # it is whichever call_many finished last.
        self.call_many_path = None

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, method, params=None, *, raw=False, idempotent=False, timeout=None):
        """Calls one REST method; returns its `result`."""
        request = self._encoding.call_request(self._portal, method, params, raw, idempotent)
        try:
            return _convert.call_response_result(self._stub.Call(request, timeout=timeout))
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None

    def call_many(self, method, params_list, *, idempotent=False, timeout=None):
        """Calls `method` once per parameter set; returns the results in the
        same order. A failed item is a BitrixError in the list (not raised),
        so the outcome of every other item is kept."""
        params_list = list(params_list)
        request = self._encoding.call_many_request(self._portal, method, params_list, idempotent)
        results = [None] * len(params_list)
        try:
            for message in self._stub.CallMany(request, timeout=timeout):
                for offset, result in enumerate(message.results):
                    results[message.first_index + offset] = _convert.result_or_error(result)
            self.call_many_path = "CallMany"
            return results
        except grpc.RpcError as e:
            # UNIMPLEMENTED comes before anything ran: sending the same sets
            # through Call cannot repeat a write.
            if e.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise from_rpc_error(e) from None
        self.call_many_path = "Call"
        results = []
        try:
            for start in range(0, len(params_list), FALLBACK_CHUNK):
                chunk = params_list[start:start + FALLBACK_CHUNK]
                bulk = self._encoding.bulk_call_request(self._portal, method, chunk, idempotent)
                results += _convert.bulk_results(self._stub.Call(bulk, timeout=timeout))
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None
        return results

    def batch(self, commands, *, halt=False, timeout=None):
        """Runs named commands as Bitrix24 batches; returns {key: result}.

        commands: {key: (method, params)} or {key: "method?query"}; later
        commands may refer to earlier ones as "$result[key][...]". A failed
        command's value is a BitrixError; with halt=True, commands after the
        first failure are BitrixError("NOT_EXECUTED")."""
        request = self._encoding.batch_request(self._portal, commands, halt)
        try:
            return _convert.batch_results(self._stub.CallBatch(request, timeout=timeout))
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None

    def get_all(self, method, params=None, *, progress=True, items_key="", strategy=None,
                unordered=False, skip_total=False, resume_cursor=None, max_resumes=3, timeout=None):
        """Reads a whole list: an iterator over its items (a ListReader).

        progress:      a tqdm bar on stderr when it is a terminal.
        strategy:      None (the gateway chooses), "offset", "keyset", "parallel_keyset".
        unordered:     items in arrival order (faster), each still exactly once.
        skip_total:    do not count the list (slow on big tables).
        resume_cursor: continue an earlier read (ListReader.resume_cursor).
        max_resumes:   times a stream broken by UNAVAILABLE is continued from
                       its last resume cursor (0 = never).
        """
        request = self._encoding.get_all_request(self._portal, method, params, items_key, strategy,
                                                 unordered, skip_total, resume_cursor)
        return ListReader(lambda r, t: self._stub.GetAll(r, timeout=t),
                          Resumption(request, timeout, max_resumes), request, timeout,
                          ListState(progress_bar(progress, method), resume_cursor))

    def get_by_id(self, method, ids, *, id_field="", params=None, timeout=None):
        """Calls a `.get`-style method per id; returns {id: result}, failed ids
        mapping to a BitrixError."""
        ids = list(ids)
        request = self._encoding.get_by_id_request(self._portal, method, ids, id_field, params)
        results = {}
        position = 0
        try:
            for message in self._stub.GetById(request, timeout=timeout):
                for entry in message.results:
                    results[ids[position]] = _convert.result_or_error(entry)
                    position += 1
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None
        return results

    def upload_file(self, source, *, folder_id=None, storage_id=None, record_field=None,
                    name=None, size=None, generate_unique_name=False, append=False, rights=None,
                    content_type=None, progress=True, chunk_size=_files.CHUNK_SIZE, timeout=None):
        """Uploads a file into a Drive folder or a storage's root, or into a
        CRM record's file field (exactly one of folder_id, storage_id,
        record_field = (entity_type, record_id, field), e.g. ("deal", 42,
        "UF_CRM_1638795037"), or for a crm.item record ("item", record_id,
        field, entity_type_id)); returns {"file": Bitrix24's file object (for a
        field, the field's value), "size": bytes, "sha256": hex}.

        source: a path (name and size then default to the file's) or a binary
                file object read to its end (give size when known: the
                gateway then checks it).
        append: with a multiple record_field, add the file to those the
                field holds (else it holds only this one afterwards); the
                answer's "file" is the added file's value.
        rights: a Drive upload's access rights, [(task_id, access_code),
                ...], e.g. [(42, "U35")] (task ids from disk.rights.getTasks).
        content_type: a Drive upload's media type, e.g. "application/pdf"
                (default application/octet-stream); download_file returns it.
        progress: a tqdm bar of bytes on stderr when it is a terminal.
        Raises BitrixError; CHECKSUM_MISMATCH when the gateway's SHA-256
        differs from the bytes read here."""
        target = _files.target(folder_id, storage_id, record_field, append)
        return _files.upload(self._files, self._portal, source, target, name, size,
                             generate_unique_name, _files.DriveOptions(rights, content_type),
                             chunk_size,
                             progress_bar(progress, name or "upload", unit="B"), timeout)

    def download_file(self, file_id, dest, *, record_field=None, index=0, attached_object_id=None,
                      offset=0, progress=True, timeout=None):
        """Downloads a Drive file (file_id), or with file_id None the file in
        a CRM record's file field (record_field = (entity_type, record_id,
        field); `index` picks one of a multiple field's files) or the file
        of an attached object (attached_object_id: a file's attachment to a
        task, comment or other record, as the record lists it), into `dest`:
        a path (from `offset` on, the file is cut there and continued) or a
        binary file object (written from where it stands). Returns {"name",
        "size", "file", "content_type", "written", "sha256"}: the bytes
        written by this call (from `offset` on) and the gateway's SHA-256 of
        them, checked here against what was written. Raises BitrixError;
        CHECKSUM_MISMATCH (DATA_LOSS) when they differ."""
        request = _files.download_request(self._portal, file_id, record_field, index, offset,
                                          attached_object_id)
        return _files.download(self._files, request, dest,
                               progress_bar(progress, "download", unit="B"), timeout)

    def subscribe(self, consumer, events, *, auth_connector="", source=None, timeout=None):
        """Subscribes `consumer` to the portal's events (EventService.Subscribe):
        an iterator of Events that runs until the stream ends; acknowledge each
        processed one with event.ack(). Unacknowledged events come back on the
        consumer's next subscription. Use it in a `with` block: leaving it
        sends the acknowledgements and ends the stream.

            with gw.subscribe("crm-sync", ["ONCRMDEALADD"]) as events:
                for event in events:
                    handle(event.record_id)
                    event.ack()

        events:         names to bind, e.g. ["ONCRMDEALADD", "ONCRMDEALUPDATE"].
        auth_connector: the portal does not queue events of writes carrying it.
        source:         None or "offline" (the portal's queue), "online"."""
        start = _events.start_request(self._portal, consumer, events, auth_connector, source)
        return _events.Subscription(self._events, start, timeout)


class ListReader:
    """Iterator over the items of a GetAll stream.

    After the last item, `summary` holds {count, total, total_matched,
    strategy, warnings}. `total` is the list's size as soon as the portal
    reports it; `resumes` counts the times a broken stream was continued
    from its resume cursor. cancel() (or closing the reader, or dropping it)
    stops the read on the gateway too.

    `resume_cursor` points past the last message whose items have all been
    returned: get_all(..., resume_cursor=reader.resume_cursor) loses nothing,
    and repeats only the items of a message left half-read.
    """

    def __init__(self, start, resumption, request, timeout, state):
        self._start = start  # (request, timeout) -> a GetAll call
        self._resumption = resumption
        self._call = start(request, timeout)
        self._state = state
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

    def __iter__(self):
        return self

    def __next__(self):
        while self._position >= len(self._buffer):
            if self._done:
                raise StopIteration
            try:
                message = next(self._call)
            except StopIteration:
                self._finish()
                raise
            except grpc.RpcError as e:
                attempt = None if self._done else self._resumption.next(e.code(), self._state.resume_cursor)
                if attempt is None:
                    self._finish()
                    raise from_rpc_error(e) from None
                request, timeout, delay = attempt
                time.sleep(delay)
                self._call = self._start(request, timeout)
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
        """Stops the read; iteration then ends."""
        self._call.cancel()
        self._finish()

    close = cancel

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cancel()

    def _finish(self):
        self._done = True
        self._buffer, self._position = [], 0
        self._state.bar.close()
