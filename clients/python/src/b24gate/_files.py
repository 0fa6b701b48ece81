"""FilesService from plain paths or binary file objects.

The bytes are read and written a chunk at a time as they stream, so the
client never holds a whole file either; the SHA-256 of what was sent is
compared with the one the gateway computed.
"""

import hashlib
import os

import grpc

from bitrix24.gateway.v1 import files_pb2
from b24gate import _convert
from b24gate.errors import BitrixError, from_rpc_error

# Well below gRPC's default 4 MiB message limit.
CHUNK_SIZE = 1 << 20


def _struct(struct):
    return {k: _convert.to_python(v) for k, v in struct.fields.items()}


def _upload_messages(header, source, chunk_size, digest, bar):
    yield files_pb2.UploadFileRequest(header=header)
    while True:
        data = source.read(chunk_size)
        if not data:
            return
        digest.update(data)
        bar.update(len(data))
        yield files_pb2.UploadFileRequest(chunk=data)


def upload(stub, portal, source, target, name, size, generate_unique_name, chunk_size, bar,
           timeout):
    """Runs UploadFile; returns {"file", "size", "sha256"}. `target` is
    ("folder_id"|"storage_id", id) or ("record_field", RecordFileField);
    `source` a path or a binary file object."""
    if isinstance(source, (str, os.PathLike)):
        if name is None:
            name = os.path.basename(os.fspath(source))
        if size is None:
            size = os.path.getsize(source)
        with open(source, "rb") as f:
            return upload(stub, portal, f, target, name, size, generate_unique_name, chunk_size,
                          bar, timeout)
    header = files_pb2.UploadFileHeader(portal=portal, name=name or "",
                                        generate_unique_name=generate_unique_name)
    if target[0] == "record_field":
        header.record_field.CopyFrom(target[1])
    else:
        setattr(header, target[0], target[1])
    if size is not None:
        header.size = size
    digest = hashlib.sha256()
    try:
        response = stub.UploadFile(
            _upload_messages(header, source, chunk_size, digest, bar), timeout=timeout)
    except grpc.RpcError as e:
        raise from_rpc_error(e) from None
    finally:
        bar.close()
    if response.sha256 != digest.hexdigest():
        raise BitrixError("CHECKSUM_MISMATCH",
                          "the gateway's SHA-256 of the upload differs from what was sent",
                          grpc.StatusCode.DATA_LOSS)
    return {"file": _struct(response.file), "size": response.size,
            "sha256": response.sha256}


def download(stub, request, dest, bar, timeout):
    """Runs DownloadFile into `dest` (a path, or a binary file object written
    from where it stands); returns {"name", "size", "file"}."""
    if isinstance(dest, (str, os.PathLike)):
        mode = "r+b" if request.offset > 0 else "wb"
        with open(dest, mode) as f:
            if request.offset > 0:
                f.seek(request.offset)
                f.truncate()
            return download(stub, request, f, bar, timeout)
    header = None
    try:
        for message in stub.DownloadFile(request, timeout=timeout):
            if message.WhichOneof("part") == "header":
                header = message.header
                if header.size >= 0:
                    bar.set_total(header.size - request.offset)
            else:
                dest.write(message.chunk)
                bar.update(len(message.chunk))
    except grpc.RpcError as e:
        raise from_rpc_error(e) from None
    finally:
        bar.close()
    return {"name": header.name, "size": header.size, "file": _struct(header.file)}
