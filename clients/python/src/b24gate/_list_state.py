"""What a GetAll stream has told so far: progress, summary, resume cursor.
Shared by the sync and asyncio readers."""

from b24gate._convert import to_python


class ListState:
    def __init__(self, bar):
        self.bar = bar
        self.items_so_far = 0
        self.total = None
        self.summary = None
        self.resume_cursor = ""

    def take(self, message):
        """Records a GetAllResponse; returns its items as Python values."""
        items = [to_python(v) for v in message.items]
        if message.HasField("progress"):
            self.items_so_far = message.progress.items_so_far
            if message.progress.HasField("total"):
                self.total = message.progress.total
                self.bar.set_total(self.total)
        if message.resume_cursor:
            self.resume_cursor = message.resume_cursor
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
