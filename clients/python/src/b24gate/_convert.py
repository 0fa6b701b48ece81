"""Request building and result conversion shared by the sync and asyncio
clients: Python values in, Python values out, no I/O."""

import datetime
import json

from google.protobuf import json_format, struct_pb2

from bitrix24.gateway.v1 import gateway_pb2 as pb
from b24gate.errors import from_command_error

_STRATEGIES = {
    None: pb.LIST_STRATEGY_UNSPECIFIED,
    "offset": pb.LIST_STRATEGY_OFFSET,
    "keyset": pb.LIST_STRATEGY_KEYSET,
    "parallel_keyset": pb.LIST_STRATEGY_PARALLEL_KEYSET,
}


def _json_default(value):
    # Bitrix24 takes dates as ISO 8601 text.
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    raise TypeError("%r is not JSON-serializable" % (value,))


def params_json(params):
    """Parameters as JSON text. Keys keep the dict's order, which Bitrix24
    gives meaning to (the priority of a multi-field `order`)."""
    return json.dumps(params, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def to_value(obj):
    """A JSON-shaped Python value as google.protobuf.Value."""
    value = struct_pb2.Value()
    json_format.ParseDict(json.loads(params_json(obj)), value)
    return value


def to_struct(obj):
    struct = struct_pb2.Struct()
    json_format.ParseDict(json.loads(params_json(obj)), struct)
    return struct


def to_python(value):
    """google.protobuf.Value -> Python. JSON numbers travel as doubles; whole
    ones come back as int, as json.loads would give them."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        # Records are mostly text fields: those are read here rather than
        # through another call (a GetAll converts every field of every item).
        out = {}
        for key, field in value.struct_value.fields.items():
            if field.WhichOneof("kind") == "string_value":
                out[key] = field.string_value
            else:
                out[key] = to_python(field)
        return out
    if kind == "list_value":
        return [to_python(v) for v in value.list_value.values]
    return None


def result_or_error(call_result):
    """A CallResult's `result`, or a BitrixError for a failed item."""
    if call_result.HasField("error"):
        return from_command_error(call_result.error)
    return to_python(call_result.result)


class ParamsEncoding:
    """How params travel: as JSON text (`params_json`, key order kept) or as
    google.protobuf.Value/Struct (`params`) for gateways older than
    params_json."""

    def __init__(self, as_json_text=True):
        self.as_json_text = as_json_text

    def call_request(self, portal, method, params, raw, idempotent):
        request = pb.CallRequest(portal=portal, method=method, raw=raw, idempotent=idempotent)
        if params is not None:
            if self.as_json_text:
                request.params_json = params_json(params)
            else:
                request.params.CopyFrom(to_value(params))
        return request

    def bulk_call_request(self, portal, method, params_list, idempotent):
        return pb.CallRequest(portal=portal, method=method, idempotent=idempotent,
                              bulk_params=[to_value(p) for p in params_list])

    def call_many_request(self, portal, method, params_list, idempotent):
        request = pb.CallManyRequest(portal=portal, method=method, idempotent=idempotent)
        if self.as_json_text:
            request.params_json.extend(params_json(p) for p in params_list)
        else:
            request.params.extend(to_value(p) for p in params_list)
        return request

    def batch_request(self, portal, commands, halt):
        request = pb.CallBatchRequest(portal=portal, halt=halt)
        for key, command in commands.items():
            entry = request.commands.add(key=key)
            if isinstance(command, str):  # Bitrix24 style: "method?query"
                entry.method = command
                continue
            method, params = command
            entry.method = method
            if params is not None:
                if self.as_json_text:
                    entry.params_json = params_json(params)
                else:
                    entry.params.CopyFrom(to_struct(params))
        return request

    def get_all_request(self, portal, method, params, items_key, strategy, unordered, skip_total,
                        resume_cursor):
        if strategy not in _STRATEGIES:
            raise ValueError("strategy must be one of %s" % sorted(s for s in _STRATEGIES if s))
        # Items as JSON text: json.loads reads them several times faster than
        # to_python walks google.protobuf.Value (a GetAll converts every item).
        request = pb.GetAllRequest(portal=portal, method=method, items_key=items_key,
                                   strategy=_STRATEGIES[strategy], unordered=unordered,
                                   skip_total=skip_total, resume_cursor=resume_cursor or "",
                                   items_as_json=True)
        if params is not None:
            if self.as_json_text:
                request.params_json = params_json(params)
            else:
                request.params.CopyFrom(to_struct(params))
        return request

    def get_by_id_request(self, portal, method, ids, id_field, params):
        request = pb.GetByIdRequest(portal=portal, method=method, id_field=id_field,
                                    ids=[to_value(i) for i in ids])
        if params is not None:
            if self.as_json_text:
                request.params_json = params_json(params)
            else:
                request.params.CopyFrom(to_struct(params))
        return request


def call_response_result(response):
    return to_python(response.result)


def bulk_results(response):
    return [result_or_error(r) for r in response.results]


def batch_results(response):
    return {entry.key: result_or_error(entry.result) for entry in response.results}
