"""FilesService from plain paths or file objects, for Gateway and
AsyncGateway.

The bytes are read and written a chunk at a time as they stream, so the
client never holds a whole file either; the SHA-256 of what was sent is
compared with the one the gateway computed.
"""

import asyncio
import hashlib
import inspect
import os

import grpc

from bitrix24.gateway.v1 import files_pb2
from b24gate import _convert
from b24gate.errors import BitrixError, from_rpc_error

# Well below gRPC's default 4 MiB message limit.
CHUNK_SIZE = 1 << 20


def _struct(struct):
    return {k: _convert.to_python(v) for k, v in struct.fields.items()}


def _is_path(value):
    return isinstance(value, (str, os.PathLike))


def _record_field(value, append=False):
    """(entity_type, record_id, field) or ("item", record_id, field,
    entity_type_id) as a RecordFileField; None stays None."""
    if value is None:
        return None
    entity_type, record_id, field, *type_id = value
    return files_pb2.RecordFileField(entity_type=entity_type, record_id=record_id, field=field,
                                     entity_type_id=type_id[0] if type_id else 0, append=append)


def target(folder_id, storage_id, record_field, append):
    """The one upload target given, as _header takes it; ValueError
    unless exactly one is (and append goes with a record_field)."""
    targets = [t for t in (("folder_id", folder_id), ("storage_id", storage_id),
                           ("record_field", _record_field(record_field, append)))
               if t[1] is not None]
    if len(targets) != 1:
        raise ValueError("give exactly one of folder_id, storage_id and record_field")
    if append and record_field is None:
        raise ValueError("append is for a record_field (a multiple file field)")
    return targets[0]


def download_request(portal, file_id, record_field, index, offset, attached_object_id=None):
    """The DownloadFileRequest; ValueError unless exactly one of file_id,
    attached_object_id and record_field is given (None or 0: not given)."""
    given = [t for t in (file_id, attached_object_id, record_field) if t is not None and t != 0]
    if len(given) != 1:
        raise ValueError("give exactly one of file_id, attached_object_id and record_field")
    field = _record_field(record_field)
    if field is not None:
        field.index = index
    return files_pb2.DownloadFileRequest(portal=portal, file_id=file_id or 0,
                                         attached_object_id=attached_object_id or 0,
                                         record_field=field, offset=offset)


class DriveOptions:
    """What a Drive upload carries besides its bytes: its access rights,
    [(task_id, access_code), ...] (disk.rights.getTasks' ids; "U35", "G2",
    "DR12", "AU", ...), and its media type ("" = application/octet-stream)."""

    def __init__(self, rights=None, content_type=None):
        self.rights = [files_pb2.DriveRight(task_id=t, access_code=c) for t, c in rights or ()]
        self.content_type = content_type or ""


def _header(portal, target, name, size, generate_unique_name, drive=None):
    """The UploadFileHeader. `target` is ("folder_id"|"storage_id", id) or
    ("record_field", RecordFileField)."""
    header = files_pb2.UploadFileHeader(portal=portal, name=name or "",
                                        generate_unique_name=generate_unique_name)
    if drive is not None:
        header.rights.extend(drive.rights)
        header.content_type = drive.content_type
    if target[0] == "record_field":
        header.record_field.CopyFrom(target[1])
    else:
        setattr(header, target[0], target[1])
    if size is not None:
        header.size = size
    return header


def _path_defaults(path, name, size):
    """A path's name and size where the caller gave none."""
    return (os.path.basename(os.fspath(path)) if name is None else name,
            os.path.getsize(path) if size is None else size)


def _result(response, digest):
    if response.sha256 != digest.hexdigest():
        raise BitrixError("CHECKSUM_MISMATCH",
                          "the gateway's SHA-256 of the upload differs from what was sent",
                          grpc.StatusCode.DATA_LOSS)
    return {"file": _struct(response.file), "size": response.size, "sha256": response.sha256}


def _open_for_download(dest, offset):
    """`dest` opened for a download from `offset`: cut there and continued."""
    f = open(dest, "r+b" if offset > 0 else "wb")
    if offset > 0:
        f.seek(offset)
        f.truncate()
    return f


class _Download:
    """What a DownloadFile stream's messages amount to: the header kept, each
    chunk's bytes counted on the bar, hashed and handed back to be written,
    and the gateway's summary checked against them."""

    def __init__(self, offset, bar):
        self.offset = offset
        self.bar = bar
        self.header = None
        self.summary = None
        self.digest = hashlib.sha256()
        self.written = 0

    def chunk_of(self, message):
        """The message's bytes, or None for the header or the summary (kept)."""
        part = message.WhichOneof("part")
        if part == "header":
            self.header = message.header
            if self.header.size >= 0:
                self.bar.set_total(self.header.size - self.offset)
            return None
        if part == "summary":
            self.summary = message.summary
            return None
        self.bar.update(len(message.chunk))
        self.digest.update(message.chunk)
        self.written += len(message.chunk)
        return message.chunk

    def result(self):
        """The download's description; BitrixError CHECKSUM_MISMATCH when
        the bytes received are not those the gateway hashed. A gateway
        older than the summary sends none: sha256 is then ""."""
        sha256 = ""
        if self.summary is not None:
            if (self.summary.sha256 != self.digest.hexdigest()
                    or self.summary.size != self.written):
                raise BitrixError(
                    "CHECKSUM_MISMATCH",
                    "the bytes received (%d, SHA-256 %s) differ from those the gateway sent "
                    "(%d, SHA-256 %s)" % (self.written, self.digest.hexdigest(),
                                          self.summary.size, self.summary.sha256),
                    grpc.StatusCode.DATA_LOSS)
            sha256 = self.summary.sha256
        h = self.header
        return {"name": h.name, "size": h.size, "file": _struct(h.file),
                "content_type": h.content_type, "written": self.written, "sha256": sha256}


def _upload_messages(header, source, chunk_size, digest, bar):
    yield files_pb2.UploadFileRequest(header=header)
    while True:
        data = source.read(chunk_size)
        if not data:
            return
        digest.update(data)
        bar.update(len(data))
        yield files_pb2.UploadFileRequest(chunk=data)


def upload(stub, portal, source, target, name, size, generate_unique_name, drive, chunk_size, bar,
           timeout):
    """Runs UploadFile; returns {"file", "size", "sha256"}. `source` is a
    path or a binary file object."""
    if _is_path(source):
        name, size = _path_defaults(source, name, size)
        with open(source, "rb") as f:
            return upload(stub, portal, f, target, name, size, generate_unique_name, drive,
                          chunk_size, bar, timeout)
    header = _header(portal, target, name, size, generate_unique_name, drive)
    digest = hashlib.sha256()
    try:
        response = stub.UploadFile(
            _upload_messages(header, source, chunk_size, digest, bar), timeout=timeout)
    except grpc.RpcError as e:
        raise from_rpc_error(e) from None
    finally:
        bar.close()
    return _result(response, digest)


def download(stub, request, dest, bar, timeout):
    """Runs DownloadFile into `dest` (a path, or a binary file object written
    from where it stands); returns {"name", "size", "file", "content_type",
    "written", "sha256"}: sha256 is the gateway's hash of the bytes written
    by this call (from the offset on), checked against them (BitrixError
    CHECKSUM_MISMATCH, DATA_LOSS, when they differ)."""
    if _is_path(dest):
        with _open_for_download(dest, request.offset) as f:
            return download(stub, request, f, bar, timeout)
    state = _Download(request.offset, bar)
    try:
        for message in stub.DownloadFile(request, timeout=timeout):
            chunk = state.chunk_of(message)
            if chunk is not None:
                dest.write(chunk)
    except grpc.RpcError as e:
        raise from_rpc_error(e) from None
    finally:
        bar.close()
    return state.result()


# ---- asyncio (AsyncGateway) -------------------------------------------------
#
# A file object's read / write runs in a worker thread (asyncio.to_thread),
# so a slow disk never stalls the event loop; an object whose read / write
# is a coroutine (an asyncio stream, aiofiles) is awaited instead.


async def _call(method, *args):
    if inspect.iscoroutinefunction(method):
        return await method(*args)
    return await asyncio.to_thread(method, *args)


async def _upload_messages_async(header, source, chunk_size, digest, bar):
    yield files_pb2.UploadFileRequest(header=header)
    while True:
        data = await _call(source.read, chunk_size)
        if not data:
            return
        digest.update(data)
        bar.update(len(data))
        yield files_pb2.UploadFileRequest(chunk=data)


async def upload_async(stub, metadata, portal, source, target, name, size, generate_unique_name,
                       drive, chunk_size, bar, timeout):
    """upload() on a grpc.aio stub; `source` may also have an async read."""
    if _is_path(source):
        name, size = _path_defaults(source, name, size)
        with open(source, "rb") as f:
            return await upload_async(stub, metadata, portal, f, target, name, size,
                                      generate_unique_name, drive, chunk_size, bar, timeout)
    header = _header(portal, target, name, size, generate_unique_name, drive)
    digest = hashlib.sha256()
    try:
        response = await stub.UploadFile(
            _upload_messages_async(header, source, chunk_size, digest, bar), timeout=timeout,
            metadata=metadata)
    except grpc.aio.AioRpcError as e:
        raise from_rpc_error(e) from None
    finally:
        bar.close()
    return _result(response, digest)


async def download_async(stub, metadata, request, dest, bar, timeout):
    """download() on a grpc.aio stub; `dest` may also have an async write.
    Cancelling the task cancels the RPC, so the gateway stops the transfer."""
    if _is_path(dest):
        with _open_for_download(dest, request.offset) as f:
            return await download_async(stub, metadata, request, f, bar, timeout)
    state = _Download(request.offset, bar)
    try:
        async for message in stub.DownloadFile(request, timeout=timeout, metadata=metadata):
            chunk = state.chunk_of(message)
            if chunk is not None:
                await _call(dest.write, chunk)
    except grpc.aio.AioRpcError as e:
        raise from_rpc_error(e) from None
    finally:
        bar.close()
    return state.result()
