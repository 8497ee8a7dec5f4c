"""The national world (issue 21, point 2): one region for the simulator, and the whole world into SQLite.

Each figure comes from a fresh process, so peak memory is that process's own (ru_maxrss), with the import
baseline of the same process beside it:

1. `region_sim_world(seed, region, locale)` for the smallest, a middle and the largest region: build time
   (imports excluded) and peak RSS (target: a few seconds and < 300 MB per region).
2. `marketplace seed --size national` streamed into SQLite: wall, peak RSS, database size, and the same for a
   one-region seed (memory flat: the whole seed peaks within a few MB of one region).
3. The seeded counts against the calibration of seed/world/national.toml.

Run: .venv/bin/python benchmarks/bench_national.py
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

REGION = """
import json, resource, time
from marketplace.sim import world as w
from marketplace.synth import national
national.region_plan(0)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter()
sw = w.region_sim_world(42, {region}, "zh_CN")
wall = time.perf_counter() - t
t = time.perf_counter()
w.region_sim_world.cache_clear()
w.region_sim_world(42, {region}, "zh_CN")
again = time.perf_counter() - t
print(json.dumps({{"region": sw.orgs[0].region, "orgs": len(sw.orgs), "targets": len(sw.targets),
    "first_s": wall, "again_s": again, "import_mb": base,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

SEED = """
import json, resource, time
import sqlalchemy as sa
from marketplace.synth import persist_national
from marketplace import db
engine = sa.create_engine("sqlite:///{path}")
db.reset(engine)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter()
counts = persist_national(engine, 42, "zh_CN", regions={regions})
print(json.dumps({{"wall_s": time.perf_counter() - t, "import_mb": base, "rows": sum(counts.values()),
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def child(code: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    print("1. one region's SimWorld (fresh process each; imports excluded from the time)")
    for region in (25, 12, 18):  # Xizang (smallest), Fujian, Guangdong (largest)
        r = child(REGION.format(region=region))
        print(f"   region {region:2d} {r['region']}: {r['orgs']} organizations, {r['targets']} targets; "
              f"build {r['first_s']:.2f} s (again {r['again_s']:.2f} s); peak RSS {r['peak_mb']:.0f} MB "
              f"(imports {r['import_mb']:.0f} MB)")
    print("2. national seed streamed into SQLite (one transaction, region by region)")
    with tempfile.TemporaryDirectory() as tmp:
        for regions in ("[18]", "None"):
            path = Path(tmp) / f"n{len(regions)}.db"
            r = child(SEED.format(path=path, regions=regions))
            label = "one region (Guangdong)" if regions != "None" else "all regions"
            print(f"   {label}: {r['rows']} rows in {r['wall_s']:.2f} s; peak RSS {r['peak_mb']:.0f} MB "
                  f"(imports and schema {r['import_mb']:.0f} MB); "
                  f"database {path.stat().st_size / 2**20:.1f} MiB")
        url = f"sqlite:///{Path(tmp) / 'cli.db'}"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "MARKETPLACE_DB_URL": url, "MARKETPLACE_HOME": tmp}
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "marketplace", "seed", "--size", "national", "--yes"],
                       env=env, check=True, capture_output=True)
        print(f"   `marketplace seed --size national` (fresh process, wall): {time.perf_counter() - t:.2f} s")
        con = sqlite3.connect(Path(tmp) / "n4.db")
        copies = con.execute("SELECT SUM(copies) FROM datasetcopies").fetchone()[0]
        batches = con.execute("SELECT COUNT(DISTINCT published_at) FROM sharinglist").fetchone()[0]
        national = json.loads(
            con.execute("SELECT value FROM sandboxsetting WHERE key = 'national'").fetchone()[0]
        )
        localities = sum(r["open_data_localities"] for r in national["regions"])
        regions_n = con.execute("SELECT COUNT(DISTINCT region) FROM organization").fetchone()[0]
        con.close()
    totals = national["totals"]
    print("3. counts against the calibration")
    print(f"   regions {regions_n}; open-data localities {localities} "
          f"(calibrated {totals['open_data_localities']}); "
          f"open datasets {copies} (calibrated {totals['open_datasets']}); sharing-list batches {batches} "
          f"(calibrated {totals['sharing_list_batches']})")


if __name__ == "__main__":
    main()
