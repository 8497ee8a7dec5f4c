"""Synthetic data: a deterministic world (parties, catalog, authorized operation) and rows for any resource.

Everything is derived from an explicit seed: `build_world(seed)` in memory, `persist_world` / `seed_sandbox`
into a database, `rows(resource, n, seed)` for a resource's records, `canonical_dump` to compare two
databases.
"""

from marketplace.synth.persist import (
    DEFAULT_LOCALE,
    DEFAULT_SEED,
    DEFAULT_SIZE,
    canonical_dump,
    ensure_seeded,
    persist_world,
    seed_sandbox,
)
from marketplace.synth.spec import LOCALES, SIZES, FieldSpec, Template, templates
from marketplace.synth.tables import GENERATORS, field_specs, guess_generator, rows, sandbox_rows
from marketplace.synth.world import ResourceSpec, World, build_world, channel_problems, check_world

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
    "persist_world",
    "rows",
    "sandbox_rows",
    "seed_sandbox",
    "templates",
]
