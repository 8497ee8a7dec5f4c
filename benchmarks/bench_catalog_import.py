"""Import of a large CKAN catalogue: 20,000 packages (a `package_search` document of about 6 MB) into an
empty SQLite sandbox file, through `marketplace.disclosure.import_catalog` (streaming batches, every value
checked), against plain `json.loads` of the same file in the same process (target: ≤ 20 s).

A second run imports the same file again (nothing changes; every package compared); a third imports the same
packages as a `ckanapi dump` JSON-lines file (read line by line) into another empty sandbox.

Run: .venv/bin/python benchmarks/bench_catalog_import.py [--packages 20000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from sqlmodel import Session

from marketplace import db
from marketplace.disclosure import import_catalog

TARGET_S = 20.0
TAGS = ["transport", "health", "education", "environment", "tax", "housing", "statistics", "open data"]
TYPES = ["text", "int", "numeric", "date", "timestamp", "bool"]


def package(i: int) -> dict:
    """A CKAN package as portals publish them: organization, tags, extras, resources with datastore fields."""
    return {
        "id": f"pkg-{i:06d}-{i * 7919 % 100003:05d}",
        "name": f"dataset-{i:06d}",
        "title": f"Dataset {i} of the provincial portal",
        "notes": f"Records of programme {i % 97}.",
        "isopen": i % 3 == 0,
        "organization": {"name": f"org-{i % 60}", "title": f"Bureau {i % 60}"},
        "tags": [{"name": TAGS[(i + j) % len(TAGS)]} for j in range(2)],
        "extras": [{"key": "frequency", "value": "MONTHLY"}],
        "resources": [
            {"fields": [{"id": f"c{k}", "type": TYPES[(i + k) % len(TYPES)]} for k in range(3)]}
        ],
    }


def write_catalog(path: Path, n: int) -> None:
    results = [package(i) for i in range(n)]
    document = {"help": "package_search", "success": True, "result": {"count": n, "results": results}}
    path.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def write_dump(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps(package(i), ensure_ascii=False, separators=(",", ":")) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Path(tmp) / "portal.json"
        write_catalog(catalog, args.packages)
        size = catalog.stat().st_size

        t0 = time.perf_counter()
        json.loads(catalog.read_text(encoding="utf-8"))
        baseline = time.perf_counter() - t0

        engine = db.make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.create_all(engine)
        calls: list[int] = []
        timings = []
        for _ in range(2):
            t0 = time.perf_counter()
            with Session(engine) as session:
                result = import_catalog(session, catalog, progress=lambda done, total: calls.append(done))
                session.commit()
            timings.append(time.perf_counter() - t0)
            print(f"  {result.summary()}")
        engine.dispose()

        dump = Path(tmp) / "dump.jsonl"
        write_dump(dump, args.packages)
        engine = db.make_engine(f"sqlite:///{Path(tmp) / 'bench-jsonl.db'}")
        db.create_all(engine)
        t0 = time.perf_counter()
        with Session(engine) as session:
            import_catalog(session, dump)
            session.commit()
        jsonl = time.perf_counter() - t0
        engine.dispose()
    first, again = timings
    print(f"catalog import, {args.packages:,} CKAN packages ({size / 1e6:.1f} MB):")
    print(f"  plain json.loads of the file: {baseline * 1000:.0f} ms (baseline)")
    print(f"  first import: {first:.2f} s = {first / baseline:.0f}x the baseline "
          f"({args.packages / first:,.0f} packages/s; target <= {TARGET_S:.0f} s: "
          f"{'met' if first <= TARGET_S else 'MISSED'})")
    print(f"  re-import (nothing changes): {again:.2f} s = {again / baseline:.0f}x the baseline")
    print(f"  ckanapi dump (JSON lines, streamed): {jsonl:.2f} s = {jsonl / baseline:.0f}x the baseline")
    print(f"  progress callbacks: {len(calls)}")


if __name__ == "__main__":
    main()
