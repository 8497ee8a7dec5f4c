"""Validated TOML files (policies, scenarios): one mechanism for every kind of file that users write.

Policy files and scenario files are read the same way: a shipped directory (an environment variable, else the
package's seed data, `seed/<kind>s` in the repository), a name or a path, `extends = "other"` merged table by
table, dotted-key overrides, then pydantic validation whose errors become one line each (file, key path,
value, expected). Each loader keeps what is its own (schema, cross checks, how values of an override are
read); this leaf module holds the rest so that both kinds of file behave, and word their problems, alike.

Hand written rather than a config library: none reports *every* problem of a file with its dotted key path
and the value found, and `extends` with cycle detection is a dozen lines. Imports only the standard library,
pydantic and `marketplace.errors`, so the policy layer may use it.
"""

from __future__ import annotations

import os
import tomllib
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel

from marketplace.errors import MarketplaceError

__all__ = [
    "MISSING",
    "ConfigFileError",
    "FileProblem",
    "deep_merge",
    "existing_file",
    "extends_path",
    "loc_to_key",
    "model_at",
    "pydantic_expected",
    "read_toml",
    "read_toml_with_extends",
    "resolve_name",
    "seed_data",
    "set_dotted",
    "shipped_dir",
    "toml_stems",
]

#: The value shown for a key that is not in the file at all.
MISSING = "(missing)"
#: Longest value (or file name) a problem line shows; longer ones are cut and their length given.
MAX_SHOWN = 200

#: The package the seed data is installed as (the repository's top-level seed/ folder, see pyproject.toml).
SEED_PACKAGE = "marketplace.seeddata"
#: Where that folder is in a source checkout put on sys.path without installing it.
_SOURCE_SEED = Path(__file__).resolve().parents[1] / "seed"


@dataclass(frozen=True, slots=True)
class FileProblem:
    """One thing wrong with a file: where (file, dotted key path), what was found and what was expected."""

    file: str
    key: str
    value: Any
    expected: str
    #: Show a missing value as `(missing)` rather than quoted as a string.
    bare_missing: ClassVar[bool] = True

    def __str__(self) -> str:
        shown = self.value if self.bare_missing and self.value == MISSING else repr(self.value)
        if len(shown) > MAX_SHOWN:  # a megabyte value is named, not echoed
            shown = f"{shown[:MAX_SHOWN]}… ({len(shown)} characters)"
        file = self.file if len(self.file) <= MAX_SHOWN else f"{self.file[:MAX_SHOWN]}…"
        return f"{file}: {self.key}: got {shown}; expected {self.expected}"


class ConfigFileError(MarketplaceError):
    """A file that cannot be loaded; `problems` lists every problem, one message line each."""

    #: The problem class this family of files reports (subclasses name their own).
    problem_type: ClassVar[type[FileProblem]] = FileProblem

    def __init__(self, problems: Sequence[FileProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, file: str, key: str, value: Any, expected: str) -> ConfigFileError:
        """The error for one problem, of this family's problem type."""
        return cls([cls.problem_type(file, key, value, expected)])


# ---------------------------------------------------------------- locating files


def seed_data() -> Path:
    """The directory of the seed data shipped with the package, found with importlib.resources.

    Installed (wheel or editable), that is the package `marketplace.seeddata`; a source checkout that was put
    on sys.path without being installed has no such package, and its seed/ folder is used instead. A real
    directory either way: pip installs packages unpacked, and the loaders glob and open files by path.
    """
    try:
        root = resources.files(SEED_PACKAGE)
    except ModuleNotFoundError:
        return _SOURCE_SEED
    if not isinstance(root, Path):
        raise MarketplaceError(f"{SEED_PACKAGE}: got {root!r}; expected the seed data installed as files")
    return root


def shipped_dir(env_var: str, subdir: str) -> Path:
    """The directory of shipped files: $`env_var` when set, else `subdir` of the package's seed data."""
    env = os.environ.get(env_var)
    return Path(env) if env else seed_data() / subdir


def toml_stems(directory: Path) -> list[str]:
    """Names (file stems) of the TOML files in `directory`, sorted; none if it does not exist."""
    return sorted(p.stem for p in directory.glob("*.toml")) if directory.is_dir() else []


def resolve_name(name_or_path: str | os.PathLike[str], directory: Path) -> Path:
    """A bare name means `directory`/NAME.toml; anything with a `.toml` suffix or a slash is a path."""
    s = os.fspath(name_or_path)
    if s.endswith(".toml") or "/" in s or os.sep in s:
        return Path(s)
    return directory / f"{s}.toml"


def existing_file(
    name_or_path: str | os.PathLike[str], directory: Path, kind: str, error: type[ConfigFileError]
) -> Path:
    """The file a name or path means; if there is none, `error` listing the shipped names."""
    path = resolve_name(name_or_path, directory)
    try:
        name = os.fspath(name_or_path)
        found = len(name) <= 4096 and "\x00" not in name and path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, say
        found = False
    if not found:
        known = ", ".join(toml_stems(directory)) or "(none)"
        raise error.single(
            str(path), "(file)", os.fspath(name_or_path), f"an existing {kind} file or one of: {known}"
        )
    return path


# ---------------------------------------------------------------- reading


#: Largest policy or scenario file read (the shipped ones are under 40 KB).
MAX_FILE_BYTES = 1024 * 1024
#: Deepest nesting of tables and arrays in one file (the shipped ones nest 4 deep).
MAX_DEPTH = 32


def read_toml(path: Path, error: type[ConfigFileError] = ConfigFileError) -> dict[str, Any]:
    """One TOML file as a dict; a syntax error or an unreadable file is a problem, not a traceback.

    Only a regular file of at most MAX_FILE_BYTES in UTF-8 is read (not a device that never ends, not
    Latin-1 or binary data), and nothing deeper than MAX_DEPTH: a policy is small, flat text.
    """
    where = str(path)
    try:
        if not path.is_file():
            raise error.single(where, "(file)", where, "a regular file (not a directory, device or pipe)")
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise error.single(where, "(file)", where, f"a readable file ({exc.strerror or exc})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise error.single(where, "(file)", f"more than {MAX_FILE_BYTES} bytes",
                           f"a file of at most {MAX_FILE_BYTES} bytes (MAX_FILE_BYTES)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error.single(where, "(encoding)", f"byte {raw[exc.start]:#04x} at offset {exc.start}",
                           "text in UTF-8 (save the file as UTF-8)") from None
    depth = _bracket_depth(text)
    if depth > MAX_DEPTH:
        raise error.single(where, "(syntax)", f"nesting {depth} deep",
                           f"arrays and inline tables nested at most {MAX_DEPTH} deep (MAX_DEPTH)")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error.single(where, "(syntax)", str(exc), "valid TOML") from None
    except RecursionError:
        raise error.single(where, "(syntax)", "too deeply nested",
                           f"arrays and inline tables nested at most {MAX_DEPTH} deep (MAX_DEPTH)") from None


def _bracket_depth(text: str) -> int:
    """The deepest nesting of `[`/`{` outside strings and comments: an upper bound of TOML's nesting, found
    in one linear pass before the recursive parser sees the text (a table header counts 1)."""
    depth = deepest = 0
    quote = ""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 2
                continue
            if c == quote or (c == "\n" and quote == "#"):
                quote = ""
        elif c in "\"'#":
            quote = c
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1
    return deepest


def read_toml_with_extends(
    path: Path,
    resolve: Callable[[str, Path], Path],
    kind: str,
    error: type[ConfigFileError] = ConfigFileError,
    *,
    missing_base: str = "an existing {kind} ({path})",
    _chain: tuple[Path, ...] = (),
) -> dict[str, Any]:
    """The file merged over the one it `extends` (tables merge, other values replace), recursively.

    `resolve(name, path)` says which file a name in `path`'s `extends` means. A non-string name, a base
    that does not exist (`missing_base`, formatted with kind and path) and a cycle are problems of `path`.
    """
    data = read_toml(path, error)
    base_name = data.pop("extends", None)
    if base_name is None:
        return data
    if not isinstance(base_name, str):
        raise error.single(str(path), "extends", base_name, f"the name of another {kind}")
    base_path = resolve(base_name, path)
    chain = (*_chain, path)
    if base_path.resolve() in [p.resolve() for p in chain]:
        raise error.single(str(path), "extends", base_name, f"a {kind} that does not extend itself")
    if not base_path.is_file():
        raise error.single(str(path), "extends", base_name, missing_base.format(kind=kind, path=base_path))
    base = read_toml_with_extends(base_path, resolve, kind, error, missing_base=missing_base, _chain=chain)
    return deep_merge(base, data)


def extends_path(
    base_name: str, path: Path, shipped: Path, kind: str, error: type[ConfigFileError] = ConfigFileError
) -> Path:
    """The file an `extends` names: a name or a relative path, found inside the extending file's folder,
    else inside the shipped folder — never anywhere else on the machine (no absolute paths, no `..` out).

    A name that is in neither folder is a problem of `path` naming both folders.
    """
    rel = base_name if base_name.endswith(".toml") else f"{base_name}.toml"
    allowed = f"the name of a {kind} in {shipped} or next to {path.name} (a path may not leave those folders)"
    if not base_name or len(base_name) > 200 or "\x00" in base_name:
        raise error.single(str(path), "extends", base_name[:200], allowed)
    for folder in (path.parent, shipped):
        candidate = folder / rel  # an absolute path stays itself, and must lie inside the folder too
        try:
            inside = candidate.resolve().is_relative_to(folder.resolve())
        except (OSError, RuntimeError, ValueError):
            inside = False
        if inside and candidate.is_file():
            return candidate
    if Path(rel).is_absolute() or ".." in Path(rel).parts:
        raise error.single(str(path), "extends", base_name, allowed)
    raise error.single(str(path), "extends", base_name, f"an existing {kind}: {allowed}")


def deep_merge(base: Mapping[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """`child` over `base`: tables merge key by key, any other value (lists included) replaces."""
    out = dict(base)
    for k, v in child.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def set_dotted(
    data: dict[str, Any],
    keys: str | Sequence[str],
    value: Any,
    file: str,
    problems: list[FileProblem],
    problem_type: type[FileProblem] = FileProblem,
) -> None:
    """Set `data[k1][k2]...` = value, creating missing tables; tables on the way are copied, not changed.

    A key on the way that holds a non-table is appended to `problems` (and nothing is set).
    """
    parts = keys.split(".") if isinstance(keys, str) else list(keys)
    node = data
    for i, part in enumerate(parts[:-1]):
        nxt = node.get(part)
        if nxt is None:
            nxt = node[part] = {}
        elif isinstance(nxt, dict):
            nxt = node[part] = dict(nxt)
        if not isinstance(nxt, dict):
            problems.append(problem_type(file, ".".join(parts[: i + 1]), nxt, "a table to override a key in"))
            return
        node = nxt
    node[parts[-1]] = value


# ---------------------------------------------------------------- pydantic errors in the file's words


def loc_to_key(loc: Sequence[Any]) -> str:
    """A pydantic error location as the key path a user writes: `pricing.tiers[1].multiplier`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def model_at(root: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    """The section model that a key path points into (for listing the allowed keys), if any."""
    cls: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or part not in cls.model_fields:
            return None
        cls = _unwrap(cls.model_fields[part].annotation)
    return cls if isinstance(cls, type) and issubclass(cls, BaseModel) else None


def _unwrap(ann: Any) -> Any:
    for arg in (ann, *typing.get_args(ann)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        for inner in typing.get_args(arg):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return ann


#: What strict validation wanted, in the words of the file (nothing is coerced: see policy/schema.py).
_STRICT_TYPES = {
    "bool_type": "true or false (a TOML boolean, not text or a number)",
    "int_type": "a whole number (a TOML integer, not text)",
    "float_type": "a number (not text)",
    "string_type": "text (in quotes)",
    "date_type": "a date written as a TOML date, e.g. 2025-01-06 (no quotes)",
    "list_type": "a list [ ... ]",
    "dict_type": "a table",
    "model_type": "a table",
    "is_instance_of": "a number",
}


def pydantic_expected(
    err: Mapping[str, Any],
    schema_hint: type[BaseModel] | str,
    *,
    missing: str = "a value (this required key is missing)",
    verbatim: bool = False,
) -> str:
    """What a key should have held, from one pydantic error, worded for the person editing the file.

    An unknown key gets `schema_hint`: a root model lists the keys allowed where it stands, a string is
    used as is. `verbatim` keeps pydantic's own sentence (only a "Value error, " prefix dropped); otherwise
    the sentence is reworded ("one of ...", "a number greater than ...").
    """
    typ = err.get("type", "")
    msg = str(err.get("msg", "a valid value"))
    if typ == "missing":
        return missing
    if typ == "extra_forbidden":
        if isinstance(schema_hint, str):
            return schema_hint
        model = model_at(schema_hint, tuple(err["loc"][:-1]))
        allowed = ", ".join(model.model_fields) if model is not None else "?"
        return f"no such key here; allowed keys: {allowed}"
    if typ in _STRICT_TYPES:
        return _STRICT_TYPES[typ]
    if verbatim:
        return msg.removeprefix("Value error, ")
    if typ in ("enum", "literal_error") and msg.startswith("Input should be "):
        return "one of " + msg[len("Input should be ") :]
    if typ in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return "a number " + msg[len("Input should be ") :]
    for prefix in ("Input should be ", "Value should be ", "Value error, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg[0].lower() + msg[1:] if msg else typ
