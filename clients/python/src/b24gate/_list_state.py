"""What a GetAll stream has told so far: progress, summary, resume cursor.
Shared by the sync and asyncio readers."""

import json
import time

import grpc

from b24gate._convert import to_python


class ListState:
    def __init__(self, bar, resume_cursor=""):
        self.bar = bar
        self.items_so_far = 0
        self.total = None
        self.summary = None
        # Past the last message whose items were all handed to the caller, so
        # a read resumed from it loses nothing; the newest cursor received
        # waits in _received until its message's last item has gone out.
        self.resume_cursor = resume_cursor or ""
        self._received = self.resume_cursor

    def take(self, message):
        """Records a GetAllResponse; returns its items as Python values
        (from items_json, or from `items` where a gateway without
        items_as_json sent them as google.protobuf.Value)."""
        if message.items_json:
            items = json.loads(message.items_json)
        else:
            items = [to_python(v) for v in message.items]
        if message.HasField("progress"):
            self.items_so_far = message.progress.items_so_far
            if message.progress.HasField("total"):
                self.total = message.progress.total
                self.bar.set_total(self.total)
        if message.resume_cursor:
            self._received = message.resume_cursor
        if message.HasField("summary"):
            s = message.summary
            self.summary = {
                "count": s.count,
                "total": s.total if s.HasField("total") else None,
                "total_matched": s.total_matched,
                "strategy": s.strategy,
                "warnings": list(s.warnings),
            }
        self.bar.update(len(items))
        return items

    def delivered(self):
        """The caller has every item taken so far."""
        self.resume_cursor = self._received


class Resumption:
    """Whether a GetAll that broke mid-stream is sent again from its resume
    cursor: only on UNAVAILABLE (the connection or the gateway went away, e.g.
    a gateway replica restarting; a read is safe to repeat), only once a
    cursor has arrived (gRPC's own retries cover failures before the first
    message), at most `max_resumes` times, within the caller's timeout.
    Items already received are never asked for again: the cursor points past
    them."""

    def __init__(self, request, timeout, max_resumes):
        self._request = request
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._left = max_resumes
        self.count = 0

    def next(self, code, cursor):
        """Returns (request, timeout, delay) for the next attempt, or None."""
        if code != grpc.StatusCode.UNAVAILABLE or not cursor or self._left <= 0:
            return None
        delay = min(0.5 * 2 ** self.count, 5.0)
        timeout = None
        if self._deadline is not None:
            timeout = self._deadline - time.monotonic() - delay
            if timeout <= 0:
                return None
        self._left -= 1
        self.count += 1
        request = type(self._request)()
        request.CopyFrom(self._request)
        request.resume_cursor = cursor
        return request, timeout, delay
