from bitrix24.gateway.v1 import events_pb2 as _events_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
EVENT_BINDINGS_STATE_FAILED: EventBindingsState
EVENT_BINDINGS_STATE_OK: EventBindingsState
EVENT_BINDINGS_STATE_PENDING: EventBindingsState
EVENT_BINDINGS_STATE_UNSPECIFIED: EventBindingsState

class AddPortalRequest(_message.Message):
    __slots__ = ["credentials", "domain", "event_bindings", "member_id", "name", "plan", "tuning"]
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    EVENT_BINDINGS_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    TUNING_FIELD_NUMBER: _ClassVar[int]
    credentials: PortalCredentials
    domain: str
    event_bindings: PortalEventBindings
    member_id: str
    name: str
    plan: str
    tuning: PortalTuning
    def __init__(self, name: _Optional[str] = ..., member_id: _Optional[str] = ..., domain: _Optional[str] = ..., credentials: _Optional[_Union[PortalCredentials, _Mapping]] = ..., plan: _Optional[str] = ..., tuning: _Optional[_Union[PortalTuning, _Mapping]] = ..., event_bindings: _Optional[_Union[PortalEventBindings, _Mapping]] = ...) -> None: ...

class AddPortalResponse(_message.Message):
    __slots__ = ["portal"]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    portal: PortalState
    def __init__(self, portal: _Optional[_Union[PortalState, _Mapping]] = ...) -> None: ...

class ConsumerLag(_message.Message):
    __slots__ = ["all_replicas", "consumer", "oldest_unacknowledged_seconds", "unacknowledged"]
    ALL_REPLICAS_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    OLDEST_UNACKNOWLEDGED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    UNACKNOWLEDGED_FIELD_NUMBER: _ClassVar[int]
    all_replicas: bool
    consumer: str
    oldest_unacknowledged_seconds: float
    unacknowledged: int
    def __init__(self, consumer: _Optional[str] = ..., unacknowledged: _Optional[int] = ..., oldest_unacknowledged_seconds: _Optional[float] = ..., all_replicas: bool = ...) -> None: ...

class EventBinding(_message.Message):
    __slots__ = ["event", "source"]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    event: str
    source: _events_pb2.EventSource
    def __init__(self, event: _Optional[str] = ..., source: _Optional[_Union[_events_pb2.EventSource, str]] = ...) -> None: ...

class EventBindingsReport(_message.Message):
    __slots__ = ["attempts", "bound", "desired", "done", "errors", "found", "last_error", "retry_in_seconds", "state", "unbound"]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    BOUND_FIELD_NUMBER: _ClassVar[int]
    DESIRED_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    FOUND_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    RETRY_IN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    UNBOUND_FIELD_NUMBER: _ClassVar[int]
    attempts: int
    bound: _containers.RepeatedCompositeFieldContainer[EventBinding]
    desired: _containers.RepeatedCompositeFieldContainer[EventBinding]
    done: bool
    errors: _containers.RepeatedScalarFieldContainer[str]
    found: _containers.RepeatedCompositeFieldContainer[EventBinding]
    last_error: str
    retry_in_seconds: float
    state: EventBindingsState
    unbound: _containers.RepeatedCompositeFieldContainer[EventBinding]
    def __init__(self, done: bool = ..., desired: _Optional[_Iterable[_Union[EventBinding, _Mapping]]] = ..., found: _Optional[_Iterable[_Union[EventBinding, _Mapping]]] = ..., bound: _Optional[_Iterable[_Union[EventBinding, _Mapping]]] = ..., unbound: _Optional[_Iterable[_Union[EventBinding, _Mapping]]] = ..., errors: _Optional[_Iterable[str]] = ..., state: _Optional[_Union[EventBindingsState, str]] = ..., attempts: _Optional[int] = ..., last_error: _Optional[str] = ..., retry_in_seconds: _Optional[float] = ...) -> None: ...

class EventNames(_message.Message):
    __slots__ = ["names"]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, names: _Optional[_Iterable[str]] = ...) -> None: ...

class GetEventStatusRequest(_message.Message):
    __slots__ = ["portal"]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    portal: str
    def __init__(self, portal: _Optional[str] = ...) -> None: ...

class GetEventStatusResponse(_message.Message):
    __slots__ = ["portals"]
    PORTALS_FIELD_NUMBER: _ClassVar[int]
    portals: _containers.RepeatedCompositeFieldContainer[PortalEventStatus]
    def __init__(self, portals: _Optional[_Iterable[_Union[PortalEventStatus, _Mapping]]] = ...) -> None: ...

class GetPortalRequest(_message.Message):
    __slots__ = ["portal"]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    portal: str
    def __init__(self, portal: _Optional[str] = ...) -> None: ...

class GetPortalResponse(_message.Message):
    __slots__ = ["portal"]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    portal: PortalState
    def __init__(self, portal: _Optional[_Union[PortalState, _Mapping]] = ...) -> None: ...

class ListPortalsRequest(_message.Message):
    __slots__ = ["filter", "page_size", "page_token"]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    filter: str
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[str] = ...) -> None: ...

class ListPortalsResponse(_message.Message):
    __slots__ = ["next_page_token", "portals"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PORTALS_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    portals: _containers.RepeatedCompositeFieldContainer[PortalState]
    def __init__(self, portals: _Optional[_Iterable[_Union[PortalState, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PortalCredentials(_message.Message):
    __slots__ = ["application_token", "client_id", "client_secret", "portal_url", "refresh_token", "webhook_url"]
    APPLICATION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    PORTAL_URL_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_URL_FIELD_NUMBER: _ClassVar[int]
    application_token: str
    client_id: str
    client_secret: str
    portal_url: str
    refresh_token: str
    webhook_url: str
    def __init__(self, webhook_url: _Optional[str] = ..., portal_url: _Optional[str] = ..., refresh_token: _Optional[str] = ..., client_id: _Optional[str] = ..., client_secret: _Optional[str] = ..., application_token: _Optional[str] = ...) -> None: ...

class PortalEventBindings(_message.Message):
    __slots__ = ["auth_connector", "offline", "online"]
    AUTH_CONNECTOR_FIELD_NUMBER: _ClassVar[int]
    OFFLINE_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    auth_connector: str
    offline: EventNames
    online: EventNames
    def __init__(self, offline: _Optional[_Union[EventNames, _Mapping]] = ..., online: _Optional[_Union[EventNames, _Mapping]] = ..., auth_connector: _Optional[str] = ...) -> None: ...

class PortalEventStatus(_message.Message):
    __slots__ = ["bindings", "consumers", "portal"]
    BINDINGS_FIELD_NUMBER: _ClassVar[int]
    CONSUMERS_FIELD_NUMBER: _ClassVar[int]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    bindings: EventBindingsReport
    consumers: _containers.RepeatedCompositeFieldContainer[ConsumerLag]
    portal: str
    def __init__(self, portal: _Optional[str] = ..., bindings: _Optional[_Union[EventBindingsReport, _Mapping]] = ..., consumers: _Optional[_Iterable[_Union[ConsumerLag, _Mapping]]] = ...) -> None: ...

class PortalState(_message.Message):
    __slots__ = ["configured", "domain", "live", "member_id", "name", "oauth", "plan", "status", "tuning"]
    CONFIGURED_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    LIVE_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OAUTH_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TUNING_FIELD_NUMBER: _ClassVar[int]
    configured: bool
    domain: str
    live: bool
    member_id: str
    name: str
    oauth: bool
    plan: str
    status: PortalStatus
    tuning: PortalTuning
    def __init__(self, name: _Optional[str] = ..., tuning: _Optional[_Union[PortalTuning, _Mapping]] = ..., status: _Optional[_Union[PortalStatus, _Mapping]] = ..., member_id: _Optional[str] = ..., domain: _Optional[str] = ..., configured: bool = ..., live: bool = ..., plan: _Optional[str] = ..., oauth: bool = ...) -> None: ...

class PortalStatus(_message.Message):
    __slots__ = ["batch_requests", "bucket_headroom_effective", "bucket_jitter_seconds", "bucket_level", "commands_sent", "concurrency_limit", "http_requests", "in_flight", "operating_blocked", "operating_seconds", "outcome_unknown", "queued", "rate_factor", "rate_limited", "redirects", "redis_errors", "retries", "shared_budget_fallback", "slowdowns", "token_refreshes"]
    class OperatingSecondsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    BATCH_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    BUCKET_HEADROOM_EFFECTIVE_FIELD_NUMBER: _ClassVar[int]
    BUCKET_JITTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
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
    bucket_headroom_effective: float
    bucket_jitter_seconds: float
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
    def __init__(self, bucket_level: _Optional[float] = ..., queued: _Optional[int] = ..., in_flight: _Optional[int] = ..., concurrency_limit: _Optional[int] = ..., rate_factor: _Optional[float] = ..., slowdowns: _Optional[int] = ..., http_requests: _Optional[int] = ..., batch_requests: _Optional[int] = ..., commands_sent: _Optional[int] = ..., retries: _Optional[int] = ..., rate_limited: _Optional[int] = ..., operating_blocked: _Optional[int] = ..., outcome_unknown: _Optional[int] = ..., token_refreshes: _Optional[int] = ..., redirects: _Optional[int] = ..., operating_seconds: _Optional[_Mapping[str, float]] = ..., shared_budget_fallback: _Optional[float] = ..., redis_errors: _Optional[int] = ..., bucket_headroom_effective: _Optional[float] = ..., bucket_jitter_seconds: _Optional[float] = ...) -> None: ...

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

class RemovePortalRequest(_message.Message):
    __slots__ = ["portal"]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    portal: str
    def __init__(self, portal: _Optional[str] = ...) -> None: ...

class RemovePortalResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class UpdatePortalRequest(_message.Message):
    __slots__ = ["credentials", "event_bindings", "plan", "portal", "reset_tuning", "tuning"]
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    EVENT_BINDINGS_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    RESET_TUNING_FIELD_NUMBER: _ClassVar[int]
    TUNING_FIELD_NUMBER: _ClassVar[int]
    credentials: PortalCredentials
    event_bindings: PortalEventBindings
    plan: str
    portal: str
    reset_tuning: bool
    tuning: PortalTuning
    def __init__(self, portal: _Optional[str] = ..., credentials: _Optional[_Union[PortalCredentials, _Mapping]] = ..., plan: _Optional[str] = ..., tuning: _Optional[_Union[PortalTuning, _Mapping]] = ..., reset_tuning: bool = ..., event_bindings: _Optional[_Union[PortalEventBindings, _Mapping]] = ...) -> None: ...

class UpdatePortalResponse(_message.Message):
    __slots__ = ["portal"]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    portal: PortalState
    def __init__(self, portal: _Optional[_Union[PortalState, _Mapping]] = ...) -> None: ...

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

class EventBindingsState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
