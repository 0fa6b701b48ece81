from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListPortalsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListPortalsResponse(_message.Message):
    __slots__ = ["portals"]
    PORTALS_FIELD_NUMBER: _ClassVar[int]
    portals: _containers.RepeatedCompositeFieldContainer[PortalState]
    def __init__(self, portals: _Optional[_Iterable[_Union[PortalState, _Mapping]]] = ...) -> None: ...

class PortalState(_message.Message):
    __slots__ = ["name", "status", "tuning"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TUNING_FIELD_NUMBER: _ClassVar[int]
    name: str
    status: PortalStatus
    tuning: PortalTuning
    def __init__(self, name: _Optional[str] = ..., tuning: _Optional[_Union[PortalTuning, _Mapping]] = ..., status: _Optional[_Union[PortalStatus, _Mapping]] = ...) -> None: ...

class PortalStatus(_message.Message):
    __slots__ = ["batch_requests", "bucket_level", "commands_sent", "concurrency_limit", "http_requests", "in_flight", "operating_blocked", "operating_seconds", "outcome_unknown", "queued", "rate_factor", "rate_limited", "redirects", "redis_errors", "retries", "shared_budget_fallback", "slowdowns", "token_refreshes"]
    class OperatingSecondsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    BATCH_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    BUCKET_LEVEL_FIELD_NUMBER: _ClassVar[int]
    COMMANDS_SENT_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    HTTP_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    OPERATING_BLOCKED_FIELD_NUMBER: _ClassVar[int]
    OPERATING_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_UNKNOWN_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    RATE_FACTOR_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITED_FIELD_NUMBER: _ClassVar[int]
    REDIRECTS_FIELD_NUMBER: _ClassVar[int]
    REDIS_ERRORS_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    SHARED_BUDGET_FALLBACK_FIELD_NUMBER: _ClassVar[int]
    SLOWDOWNS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_REFRESHES_FIELD_NUMBER: _ClassVar[int]
    batch_requests: int
    bucket_level: float
    commands_sent: int
    concurrency_limit: int
    http_requests: int
    in_flight: int
    operating_blocked: int
    operating_seconds: _containers.ScalarMap[str, float]
    outcome_unknown: int
    queued: int
    rate_factor: float
    rate_limited: int
    redirects: int
    redis_errors: int
    retries: int
    shared_budget_fallback: float
    slowdowns: int
    token_refreshes: int
    def __init__(self, bucket_level: _Optional[float] = ..., queued: _Optional[int] = ..., in_flight: _Optional[int] = ..., concurrency_limit: _Optional[int] = ..., rate_factor: _Optional[float] = ..., slowdowns: _Optional[int] = ..., http_requests: _Optional[int] = ..., batch_requests: _Optional[int] = ..., commands_sent: _Optional[int] = ..., retries: _Optional[int] = ..., rate_limited: _Optional[int] = ..., operating_blocked: _Optional[int] = ..., outcome_unknown: _Optional[int] = ..., token_refreshes: _Optional[int] = ..., redirects: _Optional[int] = ..., operating_seconds: _Optional[_Mapping[str, float]] = ..., shared_budget_fallback: _Optional[float] = ..., redis_errors: _Optional[int] = ...) -> None: ...

class PortalTuning(_message.Message):
    __slots__ = ["batch_size", "burst", "drain_per_second", "headroom", "linger_ms", "max_concurrency", "operating_limit_seconds", "operating_margin_seconds", "operating_window_seconds"]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    BURST_FIELD_NUMBER: _ClassVar[int]
    DRAIN_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    HEADROOM_FIELD_NUMBER: _ClassVar[int]
    LINGER_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    OPERATING_LIMIT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OPERATING_MARGIN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OPERATING_WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    batch_size: int
    burst: float
    drain_per_second: float
    headroom: float
    linger_ms: float
    max_concurrency: int
    operating_limit_seconds: float
    operating_margin_seconds: float
    operating_window_seconds: float
    def __init__(self, burst: _Optional[float] = ..., drain_per_second: _Optional[float] = ..., headroom: _Optional[float] = ..., operating_limit_seconds: _Optional[float] = ..., operating_window_seconds: _Optional[float] = ..., operating_margin_seconds: _Optional[float] = ..., batch_size: _Optional[int] = ..., max_concurrency: _Optional[int] = ..., linger_ms: _Optional[float] = ...) -> None: ...

class UpdatePortalTuningRequest(_message.Message):
    __slots__ = ["portal", "reset", "tuning"]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    RESET_FIELD_NUMBER: _ClassVar[int]
    TUNING_FIELD_NUMBER: _ClassVar[int]
    portal: str
    reset: bool
    tuning: PortalTuning
    def __init__(self, portal: _Optional[str] = ..., tuning: _Optional[_Union[PortalTuning, _Mapping]] = ..., reset: bool = ...) -> None: ...

class UpdatePortalTuningResponse(_message.Message):
    __slots__ = ["portal"]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    portal: PortalState
    def __init__(self, portal: _Optional[_Union[PortalState, _Mapping]] = ...) -> None: ...
