"""Progress bars (GetAll items, file bytes): tqdm on a terminal, nothing
otherwise."""

import sys


class _NoBar:
    def update(self, n):
        pass

    def set_total(self, total):
        pass

    def close(self):
        pass


class _TqdmBar:
    def __init__(self, tqdm, desc, unit):
        self._bar = tqdm(desc=desc, unit=unit, unit_scale=unit == "B", total=None, leave=False)

    def update(self, n):
        self._bar.update(n)

    def set_total(self, total):
        if self._bar.total != total:
            self._bar.total = total
            self._bar.refresh()

    def close(self):
        self._bar.close()


def progress_bar(enabled, desc, unit=" items"):
    """A bar when `enabled`, stderr is a terminal and tqdm is installed; unit
    "B" counts bytes (scaled: kB, MB, ...)."""
    if not enabled or not sys.stderr.isatty():
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoBar()
    return _TqdmBar(tqdm, desc, unit)
