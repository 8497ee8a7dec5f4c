"""Per-event records of a run (one row per arrival, one per decided review stage), kept only when asked.

A run's metrics never need them (`metrics.Tally` folds requests as they finish). When a caller wants the
events (`run(..., events=True)` for DataFrames in memory, `events=DIR` or `simulate --events DIR` for
Parquet files, `simulate --db` for the sandbox), an `EventLog` observes the model and receives the rows of
finished requests and of each day's review decisions in batches; `ParquetEvents` writes them out in chunks,
so a long run's memory stays that of its open requests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from marketplace.errors import InvalidInput
from marketplace.sim.model import MarketModel

__all__ = ["REQUEST_COLUMNS", "REVIEW_COLUMNS", "EventLog", "MemoryEvents", "ParquetEvents"]

#: one row per arrival, as codes (classes, channels, purposes and statuses index the model's tuples)
REQUEST_COLUMNS = (
    "request", "day", "requester_class", "org_index", "target", "channel", "purpose", "volume",
    "quote_volume", "value", "price", "free", "status", "filed_day", "decided_day", "filed_seq", "breaches",
    "with_conditions", "release_k", "refusal", "quote", "misused",
)
#: one row per decided review stage
REVIEW_COLUMNS = (
    "request", "filed_seq", "sequence", "stage", "opened_day", "decided_day", "due_day", "decision", "status",
    "breached",
)
#: rows per Parquet file
CHUNK_ROWS = 1 << 16


class EventLog:
    """Receives a run's event rows in batches; subclasses keep or write them."""

    def records(self, m: MarketModel, s: np.ndarray, final: bool) -> None:
        st = m.statics
        target = m.target[s]
        misused = np.zeros(s.size, dtype=bool)
        charged = m.misuse_charges(s)
        if charged:
            misused[np.searchsorted(s, np.fromiter(charged, dtype=np.int64))] = True
        self.add_requests(
            {
                "request": m.gid[s],
                "day": m.arr_day[s],
                "requester_class": m.arr_cls[s],
                "org_index": m.org[s],
                "target": target,
                "channel": np.where(target >= 0, st.world.target_channel[np.maximum(target, 0)], -1),
                "purpose": m.purpose[s],
                "volume": m.volume[s],
                "quote_volume": m.quote_volume[s],
                "value": m.value[s],
                "price": m.price[s],
                "free": m.free[s],
                "status": m.status[s],
                "filed_day": m.filed_day[s],
                "decided_day": m.decided_day[s],
                "filed_seq": m.filed_seq[s],
                "breaches": m.breaches[s],
                "with_conditions": m.with_conditions[s],
                "release_k": m.release_k[s],
                "refusal": m.refusal[s].astype(str),
                "quote": m.quote_id[s],
                "misused": misused,
            }
        )

    def reviews(self, m: MarketModel, batch: tuple[Any, ...]) -> None:
        idx, pos, stage, opened, day, due, decision, rstatus, late = batch
        n = idx.size
        self.add_reviews(
            {
                "request": m.gid[idx],
                "filed_seq": m.filed_seq[idx],
                "sequence": pos.astype(np.int64),
                "stage": np.full(n, stage, dtype=np.int64),
                "opened_day": opened,
                "decided_day": np.full(n, day, dtype=np.int64),
                "due_day": due.astype(np.int64),
                "decision": decision.astype(np.int64),
                "status": np.asarray(rstatus, dtype=np.int64),
                "breached": late.astype(bool),
            }
        )

    def add_requests(self, rows: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def add_reviews(self, rows: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """The run is over: write out what is buffered."""

    def request_chunks(self) -> Iterator[pd.DataFrame]:
        raise NotImplementedError

    def review_chunks(self) -> Iterator[pd.DataFrame]:
        raise NotImplementedError


class MemoryEvents(EventLog):
    """Events kept in memory (a run's `requests`, `reviews` and `deliveries` tables)."""

    def __init__(self) -> None:
        self._requests: list[dict[str, np.ndarray]] = []
        self._reviews: list[dict[str, np.ndarray]] = []

    def add_requests(self, rows: dict[str, np.ndarray]) -> None:
        self._requests.append(rows)

    def add_reviews(self, rows: dict[str, np.ndarray]) -> None:
        self._reviews.append(rows)

    def request_chunks(self) -> Iterator[pd.DataFrame]:
        for rows in self._requests:
            yield pd.DataFrame(rows, columns=list(REQUEST_COLUMNS))

    def review_chunks(self) -> Iterator[pd.DataFrame]:
        for rows in self._reviews:
            yield pd.DataFrame(rows, columns=list(REVIEW_COLUMNS))


class ParquetEvents(EventLog):
    """Events written in chunks of `CHUNK_ROWS` rows to `DIR/requests/part-NNNNN.parquet` and
    `DIR/reviews/part-NNNNN.parquet` (an existing directory; earlier parts there are replaced)."""

    def __init__(self, directory: str | os.PathLike[str], chunk_rows: int = CHUNK_ROWS) -> None:
        root = Path(directory)
        if not root.is_dir():
            raise InvalidInput("events", str(directory), "an existing directory to write the events into")
        self.root = root
        self.chunk_rows = chunk_rows
        self._buf: dict[str, list[dict[str, np.ndarray]]] = {"requests": [], "reviews": []}
        self._rows = {"requests": 0, "reviews": 0}
        self._parts = {"requests": 0, "reviews": 0}
        for name in self._buf:
            (root / name).mkdir(exist_ok=True)
            for old in (root / name).glob("part-*.parquet"):
                old.unlink()

    def _add(self, name: str, rows: dict[str, np.ndarray]) -> None:
        self._buf[name].append(rows)
        self._rows[name] += len(next(iter(rows.values())))
        if self._rows[name] >= self.chunk_rows:
            self._flush(name)

    def _flush(self, name: str) -> None:
        if not self._buf[name]:
            return
        cols = REQUEST_COLUMNS if name == "requests" else REVIEW_COLUMNS
        df = pd.DataFrame({c: np.concatenate([b[c] for b in self._buf[name]]) for c in cols})
        df.to_parquet(self.root / name / f"part-{self._parts[name]:05d}.parquet", index=False)
        self._parts[name] += 1
        self._buf[name], self._rows[name] = [], 0

    def add_requests(self, rows: dict[str, np.ndarray]) -> None:
        self._add("requests", rows)

    def add_reviews(self, rows: dict[str, np.ndarray]) -> None:
        self._add("reviews", rows)

    def close(self) -> None:
        self._flush("requests")
        self._flush("reviews")

    def _chunks(self, name: str) -> Iterator[pd.DataFrame]:
        for path in sorted((self.root / name).glob("part-*.parquet")):
            yield pd.read_parquet(path)

    def request_chunks(self) -> Iterator[pd.DataFrame]:
        return self._chunks("requests")

    def review_chunks(self) -> Iterator[pd.DataFrame]:
        return self._chunks("reviews")
