from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
EVENT_SOURCE_OFFLINE: EventSource
EVENT_SOURCE_ONLINE: EventSource
EVENT_SOURCE_UNSPECIFIED: EventSource
RECORD_STATE_DELETED: RecordState
RECORD_STATE_PRESENT: RecordState
RECORD_STATE_UNREADABLE: RecordState
RECORD_STATE_UNSPECIFIED: RecordState

class QueuedEvent(_message.Message):
    __slots__ = ["attempt", "data", "delivery_id", "event", "portal", "record", "record_error", "record_id", "record_state", "timestamp"]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    RECORD_ERROR_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    RECORD_STATE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    data: _struct_pb2.Struct
    delivery_id: str
    event: str
    portal: str
    record: _struct_pb2.Struct
    record_error: str
    record_id: str
    record_state: RecordState
    timestamp: str
    def __init__(self, delivery_id: _Optional[str] = ..., event: _Optional[str] = ..., portal: _Optional[str] = ..., record_id: _Optional[str] = ..., timestamp: _Optional[str] = ..., data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., attempt: _Optional[int] = ..., record_state: _Optional[_Union[RecordState, str]] = ..., record: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., record_error: _Optional[str] = ...) -> None: ...

class SubscribeAck(_message.Message):
    __slots__ = ["delivery_ids"]
    DELIVERY_IDS_FIELD_NUMBER: _ClassVar[int]
    delivery_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, delivery_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ["ack", "start"]
    ACK_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    ack: SubscribeAck
    start: SubscribeStart
    def __init__(self, start: _Optional[_Union[SubscribeStart, _Mapping]] = ..., ack: _Optional[_Union[SubscribeAck, _Mapping]] = ...) -> None: ...

class SubscribeResponse(_message.Message):
    __slots__ = ["event"]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: QueuedEvent
    def __init__(self, event: _Optional[_Union[QueuedEvent, _Mapping]] = ...) -> None: ...

class SubscribeStart(_message.Message):
    __slots__ = ["auth_connector", "consumer", "enrich", "events", "portal", "source"]
    AUTH_CONNECTOR_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    ENRICH_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    auth_connector: str
    consumer: str
    enrich: bool
    events: _containers.RepeatedScalarFieldContainer[str]
    portal: str
    source: EventSource
    def __init__(self, portal: _Optional[str] = ..., consumer: _Optional[str] = ..., events: _Optional[_Iterable[str]] = ..., auth_connector: _Optional[str] = ..., source: _Optional[_Union[EventSource, str]] = ..., enrich: bool = ...) -> None: ...

class EventSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class RecordState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
