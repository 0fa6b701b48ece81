"""EventService.Subscribe as an iterator (Gateway) or async iterator
(AsyncGateway) of Event objects, each acknowledged with event.ack().

An event is deleted from the portal's queue only once acknowledged; what is
not acknowledged when the stream ends comes back on the consumer's next
subscription (with a higher `attempt`), so acknowledge after processing.
"""

import asyncio
import queue

import grpc

from bitrix24.gateway.v1 import events_pb2
from b24gate import _convert
from b24gate.errors import from_rpc_error

_SOURCES = {None: events_pb2.EVENT_SOURCE_UNSPECIFIED,
            "offline": events_pb2.EVENT_SOURCE_OFFLINE,
            "online": events_pb2.EVENT_SOURCE_ONLINE}


def start_request(portal, consumer, events, auth_connector, source):
    if source not in _SOURCES:
        raise ValueError("source: None, 'offline' or 'online', not %r" % (source,))
    return events_pb2.SubscribeRequest(start=events_pb2.SubscribeStart(
        portal=portal, consumer=consumer, events=list(events), auth_connector=auth_connector,
        source=_SOURCES[source]))


def ack_request(delivery_ids):
    return events_pb2.SubscribeRequest(ack=events_pb2.SubscribeAck(delivery_ids=delivery_ids))


class Event:
    """One delivered event. `ack()` acknowledges it on the stream that
    delivered it (a coroutine for AsyncGateway's events).

    delivery_id, event (e.g. "ONCRMDEALADD"), portal, record_id (the
    record's ID as text, "" when none), timestamp, data (dict, as Bitrix24
    sent it), attempt (1 for the first delivery)."""

    __slots__ = ("delivery_id", "event", "portal", "record_id", "timestamp", "data", "attempt",
                 "_ack")

    def __init__(self, message, ack):
        self.delivery_id = message.delivery_id
        self.event = message.event
        self.portal = message.portal
        self.record_id = message.record_id
        self.timestamp = message.timestamp
        self.data = {k: _convert.to_python(v) for k, v in message.data.fields.items()}
        self.attempt = message.attempt
        self._ack = ack

    def ack(self):
        return self._ack([self.delivery_id])

    def __repr__(self):
        return "Event(%s %s record %s, delivery %s, attempt %d)" % (
            self.portal, self.event, self.record_id, self.delivery_id, self.attempt)


class Subscription:
    """Iterator over the events of one Subscribe stream (from
    Gateway.subscribe). It ends only when the stream does: iterate it in the
    thread that consumes the events; close() (or leaving a `with` block)
    ends it from any thread. Failures raise BitrixError (UNAVAILABLE:
    subscribing again is safe; the other codes are a subscription or
    acknowledgement the gateway refused).

    Thread-safety: ack() and close() may be called from any thread; one
    thread iterates."""

    def __init__(self, stub, start, timeout):
        # Requests wait here until gRPC's sender thread takes them; None ends
        # our side of the stream after what is queued before it.
        self._outgoing = queue.Queue()
        self._outgoing.put(start)
        self._call = stub.Subscribe(iter(self._outgoing.get, None), timeout=timeout)

    def ack(self, delivery_ids):
        """Acknowledges events by delivery id (Event.ack() does this for one)."""
        self._outgoing.put(ack_request(list(delivery_ids)))

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return Event(next(self._call).event, self.ack)
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None

    def close(self):
        """Sends the acknowledgements made so far, then ends our side; the
        gateway takes them and ends the stream (iteration stops). Events it
        delivered meanwhile and nobody acknowledged come back next time."""
        self._outgoing.put(None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            self._call.cancel()
            return
        self.close()
        for _ in self:  # until the gateway has taken the acknowledgements and ended
            pass  # delivered before the gateway saw the end; not acknowledged


class AsyncSubscription:
    """Async iterator over the events of one Subscribe stream (from
    AsyncGateway.subscribe); `await event.ack()`. Use it from the event loop
    that created it; `async with` ends the stream."""

    def __init__(self, stub, start, timeout, metadata):
        # As in Subscription; the call sends `start` at once.
        self._outgoing = asyncio.Queue()
        self._outgoing.put_nowait(start)
        self._call = stub.Subscribe(self._requests(), timeout=timeout, metadata=metadata)

    async def _requests(self):
        while (request := await self._outgoing.get()) is not None:
            yield request

    async def ack(self, delivery_ids):
        """Acknowledges events by delivery id (Event.ack() does this for one)."""
        self._outgoing.put_nowait(ack_request(list(delivery_ids)))

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            message = await self._call.read()
        except grpc.aio.AioRpcError as e:
            raise from_rpc_error(e) from None
        if message is grpc.aio.EOF:
            raise StopAsyncIteration
        return Event(message.event, self.ack)

    async def close(self):
        """Sends the acknowledgements made so far, ends our side and waits
        for the gateway to end the stream."""
        self._outgoing.put_nowait(None)
        async for _ in self:
            pass  # delivered before the gateway saw the end; not acknowledged

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        if exc[0] is None:
            await self.close()
        else:
            self._call.cancel()
