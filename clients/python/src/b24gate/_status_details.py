"""Decodes the google.rpc.Status the gateway puts in `grpc-status-details-bin`.

Only the messages the gateway sends are read: google.rpc.Status, and the
google.rpc.ErrorInfo and google.rpc.BadRequest packed in its details. They are decoded from the wire
format here because Debian has no package of the generated google.rpc modules
(googleapis-common-protos), and shipping our own copies of them would clash
with that package wherever it is installed.
"""

_ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"
_BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"


def _fields(data):
    """Yields (field number, value) of a message; value is int or bytes."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, pos = _varint(data, pos)
        elif wire_type == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire_type == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire_type == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError("unsupported wire type %d" % wire_type)
        yield number, value


def _varint(data, pos):
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _details(status_details, type_url):
    """Yields the value bytes of each detail of `type_url` in a Status."""
    for number, any_bytes in _fields(status_details):
        if number != 3:  # Status.details (repeated Any)
            continue
        any_fields = dict(_fields(any_bytes))
        if any_fields.get(1, b"").decode() == type_url:
            yield any_fields.get(2, b"")


def field_violations(status_details):
    """Returns [(field, description), ...] of the google.rpc.BadRequest in a
    serialized google.rpc.Status ([] when there is none or the bytes are not
    a Status)."""
    violations = []
    try:
        for bad_request in _details(status_details, _BAD_REQUEST_TYPE):
            for number, violation in _fields(bad_request):
                if number != 1:  # BadRequest.field_violations
                    continue
                fields = dict(_fields(violation))
                violations.append((fields.get(1, b"").decode(), fields.get(2, b"").decode()))
    except (ValueError, IndexError, UnicodeDecodeError, AttributeError):
        return []
    return violations


def error_info(status_details):
    """Returns (reason, domain, metadata dict) of the first ErrorInfo in a
    serialized google.rpc.Status, or None when there is none or the bytes are
    not a Status."""
    try:
        for info in _details(status_details, _ERROR_INFO_TYPE):
            reason, domain, metadata = "", "", {}
            for field, value in _fields(info):
                if field == 1:
                    reason = value.decode()
                elif field == 2:
                    domain = value.decode()
                elif field == 3:  # map<string, string> entry: key = 1, value = 2
                    entry = dict(_fields(value))
                    metadata[entry.get(1, b"").decode()] = entry.get(2, b"").decode()
            return reason, domain, metadata
    except (ValueError, IndexError, UnicodeDecodeError, AttributeError):
        return None
    return None
