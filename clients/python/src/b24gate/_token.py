"""Bearer-token metadata on every call of a channel.

A gateway configured with clients wants "authorization: Bearer TOKEN" on each
call. gRPC's own call credentials refuse plaintext channels, and a gateway on
loopback may well be plaintext, so the sync client adds the header with an
interceptor and the asyncio client as per-call metadata; both work on either.
"""

import collections

import grpc


def _metadata(details, token):
    return list(details.metadata or ()) + [("authorization", "Bearer " + token)]


class _Details(collections.namedtuple(
        "_Details", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")),
        grpc.ClientCallDetails):
    pass


class BearerToken(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                  grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """For grpc.intercept_channel (the sync client)."""

    def __init__(self, token):
        self._token = token

    def _details(self, d):
        return _Details(d.method, d.timeout, _metadata(d, self._token), d.credentials,
                        d.wait_for_ready, d.compression)

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation, details, request_iterator):
        return continuation(self._details(details), request_iterator)

    def intercept_stream_stream(self, continuation, details, request_iterator):
        return continuation(self._details(details), request_iterator)


def token_metadata(token):
    """Call metadata carrying `token` (for the asyncio client); None without one."""
    return (("authorization", "Bearer " + token),) if token else None
