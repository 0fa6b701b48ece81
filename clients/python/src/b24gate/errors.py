"""BitrixError: the one exception type of the client.

Raised for a failed RPC (the Bitrix24 code comes from the google.rpc.ErrorInfo
the gateway attaches) and used as the value of a failed item in call_many,
batch and get_by_id results.
"""

import grpc

from b24gate._status_details import error_info, field_violations

_CODES_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


class BitrixError(Exception):
    """A Bitrix24 or gateway error.

    code:        the Bitrix24 error code ("ERROR_METHOD_NOT_FOUND", "NOT_FOUND",
                 "" for old CRM methods), a gateway reason ("OUTCOME_UNKNOWN",
                 "NOT_EXECUTED", ...) or, for errors with no ErrorInfo (a
                 client-side deadline, an unreachable gateway), the gRPC code name.
    description: the human-readable text.
    grpc_code:   a grpc.StatusCode.
    domain:      "bitrix24.com" for portal errors, "b24gate" for the gateway's,
                 "" when the error carried no ErrorInfo.
    metadata:    the ErrorInfo metadata (description, bitrix_error, http_status).
    field_violations: [(field, description), ...] from the status's
                 google.rpc.BadRequest: each field a REST 3.0 method refused
                 (INVALID_ARGUMENT), or the request fields the gateway did.
    """

    def __init__(self, code, description, grpc_code, domain="", metadata=None,
                 field_violations=()):
        super().__init__("%s: %s" % (code or grpc_code.name, description))
        self.code = code
        self.description = description
        self.grpc_code = grpc_code
        self.domain = domain
        self.metadata = dict(metadata or {})
        self.field_violations = list(field_violations)

    @property
    def outcome_unknown(self):
        """True when a write may have run: never repeat it blindly."""
        return self.code == "OUTCOME_UNKNOWN"

    def __repr__(self):
        return "BitrixError(code=%r, description=%r, grpc_code=%s)" % (
            self.code, self.description, self.grpc_code.name)


def from_rpc_error(error):
    """Converts a grpc.RpcError (sync or aio) into a BitrixError."""
    code = error.code()
    description = error.details() or ""
    trailers = error.trailing_metadata() or ()
    for key, value in trailers:
        if key == "grpc-status-details-bin":
            info = error_info(value)
            if info:
                reason, domain, metadata = info
                # Old CRM methods have no code; the gateway names them CRM_ERROR
                # in ErrorInfo and keeps the code as sent in bitrix_error.
                bitrix_code = metadata.get("bitrix_error", reason) if domain == "bitrix24.com" else reason
                return BitrixError(bitrix_code, metadata.get("description", description), code,
                                   domain, metadata, field_violations(value))
    return BitrixError(code.name, description, code)


def from_command_error(error):
    """Converts a CommandError of one item (bulk, batch key, id)."""
    return BitrixError(error.code, error.description,
                       _CODES_BY_NUMBER.get(error.grpc_code, grpc.StatusCode.UNKNOWN))
