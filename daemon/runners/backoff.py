"""How long to wait before trying a server again, and how an outage is said in one log line."""

from __future__ import annotations


class Backoff:
    """1 s, 2 s, 4 s … capped: how long to wait before reconnecting after an outage."""

    def __init__(self, first: float = 1.0, ceiling: float = 60.0) -> None:
        self.first, self.ceiling, self.current = first, ceiling, first

    def next(self) -> float:
        delay, self.current = self.current, min(self.current * 2, self.ceiling)
        return delay

    def reset(self) -> None:
        self.current = self.first


def one_line(exc: BaseException) -> str:
    return (str(exc) or exc.__class__.__name__).splitlines()[0][:300]
