"""Per-region checkpoints of a national run, bound to the run and authenticated before they are read.

A checkpoint is one region's whole state at an exchange boundary (its model with the open requests and
random streams, its metrics so far, its border): `region-RRR-KKKKKK.ckpt` in the run's checkpoint folder,
the last two boundaries kept per region. The state is a pickle, and a pickle from an untrusted file can run
code, so a file is read only after its header checks out strictly and its HMAC-SHA256 matches, under a key
that only this user holds (`$MARKETPLACE_HOME/checkpoint.key`, created on first use with mode 0600, or
`MARKETPLACE_CHECKPOINT_KEY` as hex, e.g. for a Dask cluster sharing one folder). The header also names the
run (a digest of the scenario, seed, horizon, region count and region), so a checkpoint of another run is
refused with one line instead of being resumed. The world and policy tables are not stored: the loader
builds them again from the scenario.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import pickle
import re
import secrets
from pathlib import Path
from typing import Any

from marketplace.errors import InvalidInput

__all__ = ["checkpoint_key", "load_region", "prepare_dir", "resumable_interval", "run_binding", "save_region"]

FORMAT = 2  # 2: cross-region requests carry their requester (`regions.MESSAGE_FIELDS`)
MAGIC = b"MARKETPLACE-CHECKPOINT 1\n"
#: longest header line accepted
MAX_HEADER = 4096
#: largest checkpoint accepted (a province region's state is far smaller)
MAX_BYTES = 8 << 30
KEY_ENV = "MARKETPLACE_CHECKPOINT_KEY"
NAME = re.compile(r"^region-(\d{3})-(\d{6})\.ckpt$")
#: boundaries kept per region (two, so a run interrupted while writing one still has a complete set)
KEEP = 2


def checkpoint_key() -> bytes:
    """This user's checkpoint key (created on first use)."""
    env = os.environ.get(KEY_ENV)
    if env:
        try:
            key = bytes.fromhex(env)
        except ValueError:
            raise InvalidInput(KEY_ENV, env, "a hexadecimal key of at least 32 bytes") from None
        if len(key) < 32:
            raise InvalidInput(KEY_ENV, f"{len(key)} bytes", "a hexadecimal key of at least 32 bytes")
        return key
    from marketplace.db import data_dir

    path = data_dir() / "checkpoint.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) != 32:
            raise InvalidInput("checkpoint key", str(path), "32 bytes written by this program") from None
        return key
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


def run_binding(scenario: Any, seed: int, days: int, count: int, region: int) -> str:
    """The digest naming one region of one run: a checkpoint resumes only the run it was written by."""
    from marketplace import __version__

    data = scenario.model_dump(mode="json")
    data.pop("source", None)
    doc = {
        "format": FORMAT,
        "version": __version__,
        "scenario": data,
        "seed": int(seed),
        "days": int(days),
        "regions": int(count),
        "region": int(region),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def prepare_dir(path: Path) -> None:
    """The checkpoint folder: created if its parent exists; refused by name if it is not a folder."""
    if path.exists() and not path.is_dir():
        raise InvalidInput("checkpoint", str(path), "a folder for the run's checkpoints")
    if not path.exists():
        if not path.parent.is_dir():
            raise InvalidInput("checkpoint", str(path), "a folder in an existing folder")
        path.mkdir()


def _name(region: int, k: int) -> str:
    return f"region-{region:03d}-{k:06d}.ckpt"


def _mac(key: bytes, header: dict[str, Any], payload: bytes) -> str:
    h = hmac.new(key, json.dumps(header, sort_keys=True).encode(), hashlib.sha256)
    h.update(payload)
    return h.hexdigest()


class _Pickler(pickle.Pickler):
    def __init__(self, f: Any, statics: Any) -> None:
        super().__init__(f, protocol=pickle.HIGHEST_PROTOCOL)
        self.statics = statics

    def persistent_id(self, obj: Any) -> Any:
        return "statics" if obj is self.statics else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, f: Any, statics: Any) -> None:
        super().__init__(f)
        self.statics = statics

    def persistent_load(self, pid: Any) -> Any:
        if pid != "statics":
            raise pickle.UnpicklingError("unknown reference")
        return self.statics


def save_region(
    folder: Path, region: int, k: int, binding: str, task: Any, statics: Any, key: bytes | None = None
) -> Path:
    """Write region `region`'s state at boundary `k` (atomically), and drop its older checkpoints."""
    buf = io.BytesIO()
    _Pickler(buf, statics).dump(task)
    payload = buf.getvalue()
    header = {"format": FORMAT, "region": region, "interval": k, "run": binding, "size": len(payload)}
    header["mac"] = _mac(key or checkpoint_key(), header, payload)
    path = folder / _name(region, k)
    tmp = folder / f".{path.name}.tmp"
    with open(tmp, "wb") as f:
        f.write(MAGIC)
        f.write(json.dumps(header, sort_keys=True).encode() + b"\n")
        f.write(payload)
    os.replace(tmp, path)
    older = sorted(kk for r, kk in _listing(folder) if r == region and kk < k)
    for kk in older[: max(0, len(older) - (KEEP - 1))]:
        (folder / _name(region, kk)).unlink(missing_ok=True)
    return path


def _listing(folder: Path) -> list[tuple[int, int]]:
    out = []
    for p in folder.iterdir():
        m = NAME.match(p.name)
        if m and p.is_file():
            out.append((int(m.group(1)), int(m.group(2))))
    return sorted(out)


def _read_header(path: Path) -> tuple[dict[str, Any], int]:
    """The header of checkpoint `path`, checked strictly; and where its payload starts."""
    bad = "a checkpoint written by `marketplace simulate --checkpoint`"
    if not path.is_file():
        raise InvalidInput("checkpoint", str(path), "a regular file")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InvalidInput("checkpoint", str(path), f"at most {MAX_BYTES} bytes")
    with open(path, "rb") as f:
        magic = f.read(len(MAGIC))
        line = f.readline(MAX_HEADER + 1)
    if magic != MAGIC or not line.endswith(b"\n"):
        raise InvalidInput("checkpoint", str(path), bad)
    try:
        header = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("checkpoint", str(path), bad) from None
    types = {"format": int, "region": int, "interval": int, "run": str, "size": int, "mac": str}
    if isinstance(header, dict) and type(header.get("format")) is int and header["format"] != FORMAT:
        raise InvalidInput(  # written by another version: say so, not that it is no checkpoint at all
            "checkpoint",
            str(path),
            f"a checkpoint of format {FORMAT} (this one has format {header['format']}, from another version "
            "of the sandbox: resume it with that version, or start afresh in a new folder)",
        )
    if (
        not isinstance(header, dict)
        or set(header) != set(types)
        or any(type(header[k]) is not t for k, t in types.items())
        or header["format"] != FORMAT
        or not re.fullmatch(r"[0-9a-f]{64}", header["mac"])
        or not re.fullmatch(r"[0-9a-f]{64}", header["run"])
    ):
        raise InvalidInput("checkpoint", str(path), bad)
    start = len(MAGIC) + len(line)
    if header["size"] != size - start:
        raise InvalidInput("checkpoint", str(path), "a complete checkpoint (the file is cut or padded)")
    return header, start


def resumable_interval(folder: Path, bindings: dict[int, str]) -> int | None:
    """The latest boundary every region of the run has a checkpoint at (None: start afresh).

    A checkpoint of another run in the folder is refused: resuming it would mix two runs."""
    have: dict[int, set[int]] = {r: set() for r in bindings}
    for region, k in _listing(folder):
        header, _ = _read_header(folder / _name(region, k))
        if region not in bindings or header["run"] != bindings[region] or header["region"] != region:
            raise InvalidInput(
                "checkpoint",
                str(folder / _name(region, k)),
                "a checkpoint of this run (same scenario, seed, days and regions); use another folder",
            )
        have[region].add(k)
    common = set.intersection(*have.values()) if have else set()
    return max(common) if common else None


def load_region(
    folder: Path, region: int, k: int, binding: str, statics: Any, key: bytes | None = None
) -> Any:
    """Region `region`'s state at boundary `k`, after its header, run and HMAC check out."""
    path = folder / _name(region, k)
    header, start = _read_header(path)
    if header["run"] != binding or header["region"] != region or header["interval"] != k:
        raise InvalidInput("checkpoint", str(path), "a checkpoint of this run, region and boundary")
    payload = path.read_bytes()[start:]
    body = {k2: v for k2, v in header.items() if k2 != "mac"}
    if not hmac.compare_digest(_mac(key or checkpoint_key(), body, payload), header["mac"]):
        raise InvalidInput(
            "checkpoint", str(path), "a checkpoint this user wrote (its authentication code does not match)"
        )
    return _Unpickler(io.BytesIO(payload), statics).load()
