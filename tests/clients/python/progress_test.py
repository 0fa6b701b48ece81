"""Unit tests of get_all's progress bar (b24gate._progress): a tqdm bar on a
terminal that counts up to the list's total, nothing otherwise."""

import io
import sys
import unittest
from unittest import mock

from b24gate._progress import progress_bar, _NoBar


class Terminal(io.StringIO):
    def isatty(self):
        return True


class ProgressBarTest(unittest.TestCase):
    def test_a_terminal_gets_a_bar_counting_to_the_total(self):
        terminal = Terminal()
        with mock.patch.object(sys, "stderr", terminal):
            bar = progress_bar(True, "crm.deal.list")
            bar.set_total(120)
            bar.update(50)
            bar.update(70)
            counted = (bar._bar.n, bar._bar.total)
            bar.close()
        self.assertEqual(counted, (120, 120))
        output = terminal.getvalue()  # tqdm redraws at most every 0.1 s
        self.assertIn("crm.deal.list", output)
        self.assertIn("/120", output)

    def test_not_a_terminal_means_no_bar(self):
        with mock.patch.object(sys, "stderr", io.StringIO()):
            self.assertIsInstance(progress_bar(True, "crm.deal.list"), _NoBar)

    def test_progress_false_means_no_bar(self):
        with mock.patch.object(sys, "stderr", Terminal()):
            self.assertIsInstance(progress_bar(False, "crm.deal.list"), _NoBar)

    def test_without_tqdm_there_is_no_bar(self):
        with mock.patch.object(sys, "stderr", Terminal()), mock.patch.dict(sys.modules, {"tqdm": None}):
            self.assertIsInstance(progress_bar(True, "crm.deal.list"), _NoBar)


if __name__ == "__main__":
    unittest.main(verbosity=2)
