from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

API_VERSION_AUTO: ApiVersion
API_VERSION_CLASSIC: ApiVersion
API_VERSION_UNSPECIFIED: ApiVersion
API_VERSION_V3: ApiVersion
CACHE_MODE_BYPASS: CacheMode
CACHE_MODE_REFRESH: CacheMode
CACHE_MODE_UNSPECIFIED: CacheMode
DESCRIPTOR: _descriptor.FileDescriptor
LIST_STRATEGY_KEYSET: ListStrategy
LIST_STRATEGY_OFFSET: ListStrategy
LIST_STRATEGY_PARALLEL_KEYSET: ListStrategy
LIST_STRATEGY_UNSPECIFIED: ListStrategy

class BatchCommand(_message.Message):
    __slots__ = ["key", "method", "params", "params_json"]
    KEY_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    key: str
    method: str
    params: _struct_pb2.Struct
    params_json: str
    def __init__(self, key: _Optional[str] = ..., method: _Optional[str] = ..., params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., params_json: _Optional[str] = ...) -> None: ...

class BatchResult(_message.Message):
    __slots__ = ["key", "result"]
    KEY_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    key: str
    result: CallResult
    def __init__(self, key: _Optional[str] = ..., result: _Optional[_Union[CallResult, _Mapping]] = ...) -> None: ...

class CallBatchRequest(_message.Message):
    __slots__ = ["api_version", "commands", "halt", "portal"]
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    COMMANDS_FIELD_NUMBER: _ClassVar[int]
    HALT_FIELD_NUMBER: _ClassVar[int]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    api_version: ApiVersion
    commands: _containers.RepeatedCompositeFieldContainer[BatchCommand]
    halt: bool
    portal: str
    def __init__(self, portal: _Optional[str] = ..., commands: _Optional[_Iterable[_Union[BatchCommand, _Mapping]]] = ..., halt: bool = ..., api_version: _Optional[_Union[ApiVersion, str]] = ...) -> None: ...

class CallBatchResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[BatchResult]
    def __init__(self, results: _Optional[_Iterable[_Union[BatchResult, _Mapping]]] = ...) -> None: ...

class CallManyRequest(_message.Message):
    __slots__ = ["api_version", "cache", "idempotency_keys", "idempotent", "method", "params", "params_json", "portal"]
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEYS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENT_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    api_version: ApiVersion
    cache: CacheMode
    idempotency_keys: _containers.RepeatedScalarFieldContainer[str]
    idempotent: bool
    method: str
    params: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Value]
    params_json: _containers.RepeatedScalarFieldContainer[str]
    portal: str
    def __init__(self, portal: _Optional[str] = ..., method: _Optional[str] = ..., params: _Optional[_Iterable[_Union[_struct_pb2.Value, _Mapping]]] = ..., params_json: _Optional[_Iterable[str]] = ..., idempotent: bool = ..., cache: _Optional[_Union[CacheMode, str]] = ..., api_version: _Optional[_Union[ApiVersion, str]] = ..., idempotency_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class CallManyResponse(_message.Message):
    __slots__ = ["first_index", "results"]
    FIRST_INDEX_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    first_index: int
    results: _containers.RepeatedCompositeFieldContainer[CallResult]
    def __init__(self, first_index: _Optional[int] = ..., results: _Optional[_Iterable[_Union[CallResult, _Mapping]]] = ...) -> None: ...

class CallRequest(_message.Message):
    __slots__ = ["api_version", "bulk_params", "cache", "idempotency_key", "idempotent", "method", "params", "params_json", "portal", "raw"]
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    BULK_PARAMS_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENT_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    api_version: ApiVersion
    bulk_params: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Value]
    cache: CacheMode
    idempotency_key: str
    idempotent: bool
    method: str
    params: _struct_pb2.Value
    params_json: str
    portal: str
    raw: bool
    def __init__(self, portal: _Optional[str] = ..., method: _Optional[str] = ..., params: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., bulk_params: _Optional[_Iterable[_Union[_struct_pb2.Value, _Mapping]]] = ..., raw: bool = ..., idempotent: bool = ..., params_json: _Optional[str] = ..., cache: _Optional[_Union[CacheMode, str]] = ..., api_version: _Optional[_Union[ApiVersion, str]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CallResponse(_message.Message):
    __slots__ = ["next", "result", "results", "time", "total"]
    NEXT_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    next: int
    result: _struct_pb2.Value
    results: _containers.RepeatedCompositeFieldContainer[CallResult]
    time: _struct_pb2.Struct
    total: int
    def __init__(self, result: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., total: _Optional[int] = ..., next: _Optional[int] = ..., time: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., results: _Optional[_Iterable[_Union[CallResult, _Mapping]]] = ...) -> None: ...

class CallResult(_message.Message):
    __slots__ = ["error", "next", "result", "time", "total"]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    NEXT_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    error: CommandError
    next: int
    result: _struct_pb2.Value
    time: _struct_pb2.Struct
    total: int
    def __init__(self, result: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., total: _Optional[int] = ..., next: _Optional[int] = ..., time: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., error: _Optional[_Union[CommandError, _Mapping]] = ...) -> None: ...

class CommandError(_message.Message):
    __slots__ = ["code", "description", "grpc_code"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    GRPC_CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    description: str
    grpc_code: int
    def __init__(self, code: _Optional[str] = ..., description: _Optional[str] = ..., grpc_code: _Optional[int] = ...) -> None: ...

class GetAllRequest(_message.Message):
    __slots__ = ["api_version", "idempotent", "items_as_json", "items_key", "method", "params", "params_json", "portal", "resume_cursor", "skip_total", "strategy", "unordered"]
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENT_FIELD_NUMBER: _ClassVar[int]
    ITEMS_AS_JSON_FIELD_NUMBER: _ClassVar[int]
    ITEMS_KEY_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    RESUME_CURSOR_FIELD_NUMBER: _ClassVar[int]
    SKIP_TOTAL_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    UNORDERED_FIELD_NUMBER: _ClassVar[int]
    api_version: ApiVersion
    idempotent: bool
    items_as_json: bool
    items_key: str
    method: str
    params: _struct_pb2.Struct
    params_json: str
    portal: str
    resume_cursor: str
    skip_total: bool
    strategy: ListStrategy
    unordered: bool
    def __init__(self, portal: _Optional[str] = ..., method: _Optional[str] = ..., params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., items_key: _Optional[str] = ..., params_json: _Optional[str] = ..., strategy: _Optional[_Union[ListStrategy, str]] = ..., unordered: bool = ..., skip_total: bool = ..., resume_cursor: _Optional[str] = ..., idempotent: bool = ..., api_version: _Optional[_Union[ApiVersion, str]] = ..., items_as_json: bool = ...) -> None: ...

class GetAllResponse(_message.Message):
    __slots__ = ["items", "items_json", "progress", "resume_cursor", "summary"]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_JSON_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESUME_CURSOR_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Value]
    items_json: str
    progress: Progress
    resume_cursor: str
    summary: GetAllSummary
    def __init__(self, items: _Optional[_Iterable[_Union[_struct_pb2.Value, _Mapping]]] = ..., progress: _Optional[_Union[Progress, _Mapping]] = ..., summary: _Optional[_Union[GetAllSummary, _Mapping]] = ..., resume_cursor: _Optional[str] = ..., items_json: _Optional[str] = ...) -> None: ...

class GetAllSummary(_message.Message):
    __slots__ = ["count", "strategy", "total", "total_matched", "warnings"]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MATCHED_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    count: int
    strategy: str
    total: int
    total_matched: bool
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, count: _Optional[int] = ..., total: _Optional[int] = ..., total_matched: bool = ..., strategy: _Optional[str] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class GetByIdRequest(_message.Message):
    __slots__ = ["api_version", "cache", "id_field", "idempotent", "ids", "method", "params", "params_json", "portal"]
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENT_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    api_version: ApiVersion
    cache: CacheMode
    id_field: str
    idempotent: bool
    ids: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Value]
    method: str
    params: _struct_pb2.Struct
    params_json: str
    portal: str
    def __init__(self, portal: _Optional[str] = ..., method: _Optional[str] = ..., ids: _Optional[_Iterable[_Union[_struct_pb2.Value, _Mapping]]] = ..., id_field: _Optional[str] = ..., params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., params_json: _Optional[str] = ..., cache: _Optional[_Union[CacheMode, str]] = ..., idempotent: bool = ..., api_version: _Optional[_Union[ApiVersion, str]] = ...) -> None: ...

class GetByIdResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[IdResult]
    def __init__(self, results: _Optional[_Iterable[_Union[IdResult, _Mapping]]] = ...) -> None: ...

class IdResult(_message.Message):
    __slots__ = ["error", "id", "result"]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    error: CommandError
    id: _struct_pb2.Value
    result: _struct_pb2.Value
    def __init__(self, id: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., result: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., error: _Optional[_Union[CommandError, _Mapping]] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ["items_so_far", "total"]
    ITEMS_SO_FAR_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    items_so_far: int
    total: int
    def __init__(self, items_so_far: _Optional[int] = ..., total: _Optional[int] = ...) -> None: ...

class ApiVersion(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class CacheMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ListStrategy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
