"""`make bench`: run every `benchmarks/bench_*.py` module's `main()` and merge the dicts into results.json."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(names: list[str] | None = None) -> dict:
    """Run the named benchmark modules (all when None); returns the merged results, also written to results.json."""
    results_path = HERE / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    failed = []
    for name in modules:
        if names and name not in names and name.removeprefix("bench_") not in names:
            continue
        print(f"== {name}", flush=True)
        try:
            out = importlib.import_module(f"benchmarks.{name}").main()
        except Exception as exc:
            print(f"benchmark {name} failed: {exc!r}", file=sys.stderr)
            failed.append(name)
            continue
        results.update(out or {})
    results_path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"results -> {results_path}")
    if failed:
        raise SystemExit(f"failed benchmarks: {', '.join(failed)}")
    return results


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    run(sys.argv[1:] or None)
