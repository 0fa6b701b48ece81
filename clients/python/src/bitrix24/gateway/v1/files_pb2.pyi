from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DownloadFileHeader(_message.Message):
    __slots__ = ["content_type", "file", "name", "size"]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    content_type: str
    file: _struct_pb2.Struct
    name: str
    size: int
    def __init__(self, name: _Optional[str] = ..., size: _Optional[int] = ..., file: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., content_type: _Optional[str] = ...) -> None: ...

class DownloadFileRequest(_message.Message):
    __slots__ = ["attached_object_id", "file_id", "offset", "portal", "record_field"]
    ATTACHED_OBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_FIELD_NUMBER: _ClassVar[int]
    attached_object_id: int
    file_id: int
    offset: int
    portal: str
    record_field: RecordFileField
    def __init__(self, portal: _Optional[str] = ..., file_id: _Optional[int] = ..., offset: _Optional[int] = ..., attached_object_id: _Optional[int] = ..., record_field: _Optional[_Union[RecordFileField, _Mapping]] = ...) -> None: ...

class DownloadFileResponse(_message.Message):
    __slots__ = ["chunk", "header", "summary"]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    header: DownloadFileHeader
    summary: DownloadFileSummary
    def __init__(self, header: _Optional[_Union[DownloadFileHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ..., summary: _Optional[_Union[DownloadFileSummary, _Mapping]] = ...) -> None: ...

class DownloadFileSummary(_message.Message):
    __slots__ = ["sha256", "size"]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    size: int
    def __init__(self, size: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class DriveRight(_message.Message):
    __slots__ = ["access_code", "task_id"]
    ACCESS_CODE_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    access_code: str
    task_id: int
    def __init__(self, task_id: _Optional[int] = ..., access_code: _Optional[str] = ...) -> None: ...

class RecordFileField(_message.Message):
    __slots__ = ["append", "entity_type", "entity_type_id", "field", "index", "record_id"]
    APPEND_FIELD_NUMBER: _ClassVar[int]
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENTITY_TYPE_ID_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    append: bool
    entity_type: str
    entity_type_id: int
    field: str
    index: int
    record_id: int
    def __init__(self, entity_type: _Optional[str] = ..., record_id: _Optional[int] = ..., field: _Optional[str] = ..., index: _Optional[int] = ..., entity_type_id: _Optional[int] = ..., append: bool = ...) -> None: ...

class UploadFileHeader(_message.Message):
    __slots__ = ["content_type", "folder_id", "generate_unique_name", "name", "portal", "record_field", "rights", "size", "storage_id"]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FOLDER_ID_FIELD_NUMBER: _ClassVar[int]
    GENERATE_UNIQUE_NAME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_FIELD_NUMBER: _ClassVar[int]
    RIGHTS_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    STORAGE_ID_FIELD_NUMBER: _ClassVar[int]
    content_type: str
    folder_id: int
    generate_unique_name: bool
    name: str
    portal: str
    record_field: RecordFileField
    rights: _containers.RepeatedCompositeFieldContainer[DriveRight]
    size: int
    storage_id: int
    def __init__(self, portal: _Optional[str] = ..., folder_id: _Optional[int] = ..., storage_id: _Optional[int] = ..., record_field: _Optional[_Union[RecordFileField, _Mapping]] = ..., name: _Optional[str] = ..., generate_unique_name: bool = ..., size: _Optional[int] = ..., rights: _Optional[_Iterable[_Union[DriveRight, _Mapping]]] = ..., content_type: _Optional[str] = ...) -> None: ...

class UploadFileRequest(_message.Message):
    __slots__ = ["chunk", "header"]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    header: UploadFileHeader
    def __init__(self, header: _Optional[_Union[UploadFileHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadFileResponse(_message.Message):
    __slots__ = ["file", "sha256", "size"]
    FILE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    file: _struct_pb2.Struct
    sha256: str
    size: int
    def __init__(self, file: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...
