"""Browser tests: make `lab_harness` importable (tests use importmode=importlib, not packages)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
