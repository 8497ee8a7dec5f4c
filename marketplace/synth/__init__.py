"""Synthetic data: a deterministic world (parties, catalog, authorized operation) and rows for any resource.

Everything is derived from an explicit seed: `build_world(seed)` in memory, `persist_world` / `seed_sandbox`
into a database, `rows(resource, n, seed)` for a resource's records, `canonical_dump` to compare two
databases.

The names are exported lazily (module `__getattr__`): `marketplace seed --help` needs only the sizes and
locales of `spec`, not SQLAlchemy and Faker, which `persist` and `tables` import.
"""

from importlib import import_module
from typing import Any

#: Where each exported name is defined.
_SOURCES = {
    **dict.fromkeys(("canonical_dump", "ensure_seeded", "persist_national", "persist_world", "seed_sandbox"),
                    "persist"),
    **dict.fromkeys(("DEFAULT_LOCALE", "DEFAULT_SEED", "DEFAULT_SIZE", "LOCALES", "SIZES", "FieldSpec",
                     "Template", "templates"), "spec"),
    **dict.fromkeys(("GENERATORS", "field_specs", "guess_generator", "rows", "sandbox_rows"), "tables"),
    **dict.fromkeys(("ResourceSpec", "World", "build_world", "channel_problems", "check_world"), "world"),
}


def __getattr__(name: str) -> Any:
    """Import the module that defines `name` on first use."""
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{source}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SOURCES))


__all__ = [
    "DEFAULT_LOCALE",
    "DEFAULT_SEED",
    "DEFAULT_SIZE",
    "GENERATORS",
    "LOCALES",
    "SIZES",
    "FieldSpec",
    "ResourceSpec",
    "Template",
    "World",
    "build_world",
    "canonical_dump",
    "channel_problems",
    "check_world",
    "ensure_seeded",
    "field_specs",
    "guess_generator",
    "persist_national",
    "persist_world",
    "rows",
    "sandbox_rows",
    "seed_sandbox",
    "templates",
]
