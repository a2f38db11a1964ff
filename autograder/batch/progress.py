"""Progress of a batch: a line per finished submission, an ETA, and a bar on a terminal."""

import sys
import time


def duration(seconds):
    """``1 h 02 min``, ``4 min 05 s``, ``12 s``."""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


class Progress:
    """Counts finished submissions and estimates the time left from the pace so far.

    Every finished submission is printed as a line; on a terminal a bar with the ETA is redrawn
    under those lines (on ``stream``, normally stderr, so the printed report stays clean).
    """

    def __init__(self, total, jobs, out=print, stream=None, clock=time.monotonic):
        self.total, self.jobs, self.out, self.clock = total, jobs, out, clock
        self.stream = stream if stream is not None else sys.stderr
        self.start = clock()
        self.done = 0
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def eta(self):
        """Seconds left, from the average pace so far (None before the first submission)."""
        if not self.done:
            return None
        return (self.clock() - self.start) / self.done * (self.total - self.done)

    def status(self, width=28):
        filled = int(width * self.done / self.total) if self.total else width
        eta = self.eta()
        left = "ETA --" if eta is None else ("done" if self.done == self.total else f"ETA {duration(eta)}")
        return (f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                f"{100 * self.done / max(self.total, 1):3.0f}%  {duration(self.clock() - self.start)} elapsed  {left}")

    def finished(self, report):
        self.done += 1
        flag = f"  needs attention ({len(report.attention())})" if report.attention() else ""
        eta = self.eta()
        when = "" if self.done == self.total or eta is None else f"  ETA {duration(eta)}"
        self._clear()
        self.out(f"[{self.done}/{self.total}{when}] {report.assignment} {report.student}: "
                 f"{report.score:g}/{report.max_score:g} ({report.seconds:.1f} s){flag}")
        self.draw()

    def draw(self):
        if self.tty:
            self.stream.write("\r" + self.status())
            self.stream.flush()

    def _clear(self):
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def close(self):
        if self.tty:
            self._clear()
        self.out(f"graded {self.done} submission(s) in {duration(self.clock() - self.start)} "
                 f"with {self.jobs} job(s)")
