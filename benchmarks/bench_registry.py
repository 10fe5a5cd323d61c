"""Registry benchmark: what registering, resolving and loading a model costs, against plain MLflow.

Run: ``.venv/bin/python -m benchmarks.bench_registry [--quick]``

In the same run, each in a fresh child process (so imports and store creation are counted honestly):

1. **cold start**: a new workspace and the first registration. shopml copies a migrated SQLite template;
   the baseline is MLflow's own path (``MlflowClient`` on a new ``sqlite:///`` URI runs the migrations).
2. **warm operations** (medians of ``repeats``): shopml ``register`` (run + params/metrics/lineage tags +
   artifacts + version + alias), ``resolve``, ``aliases``, ``list_models``, ``promote``, ``load_bundle``
   (cold cache and cached), against the bare MLflow calls a minimal registration needs (create_run,
   log_batch, log_artifacts, create_model_version, set_registered_model_alias) and
   ``get_model_version_by_alias``.

Wall times on a shared machine are noisy; CPU times of the process are printed beside them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHILD_SHOPML = r"""
import json, statistics, sys, time
from pathlib import Path
t0, c0 = time.perf_counter(), time.process_time()
from shopml.config import Workspace
from shopml.registry import BundleMeta, Registry, write_bundle
root, repeats = Path(sys.argv[1]), int(sys.argv[2])
meta = BundleMeta(name="fraud", task="fraud", schema={"features": [{"name": "amount", "kind": "numeric"}]},
                  inputs=["amount"], threshold=0.3, metrics={"pr_auc": 0.6})
bundle = write_bundle(root / "bundle", meta, b"x" * 200_000).path
reg = Registry(Workspace(root / "ws"))
reg.register(bundle, params={"max_depth": 4}, metrics={"f1": 0.5})
out = {"cold": [time.perf_counter() - t0, time.process_time() - c0]}
def med(name, fn):
    ws, cs = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time(); fn()
        ws.append(time.perf_counter() - t); cs.append(time.process_time() - c)
    out[name] = [statistics.median(ws), statistics.median(cs)]
med("register", lambda: reg.register(bundle, params={"max_depth": 4}, metrics={"f1": 0.5}))
med("resolve", lambda: reg.resolve("fraud", "champion"))
med("aliases", lambda: reg.aliases("fraud"))
med("list_models", reg.list_models)
flip = [1]
def promote():
    flip[0] = 3 - flip[0]; reg.promote("fraud", flip[0])
med("promote", promote)
import shutil
def cold_load():
    shutil.rmtree(reg.cache_dir, ignore_errors=True); reg.load_bundle("fraud")
med("load_bundle (download)", cold_load)
med("load_bundle (cached)", lambda: reg.load_bundle("fraud"))
print(json.dumps(out))
"""

CHILD_MLFLOW = r"""
import json, statistics, sys, time, os
from pathlib import Path
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
t0, c0 = time.perf_counter(), time.process_time()
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient
root, repeats = Path(sys.argv[1]), int(sys.argv[2])
(root / "bundle").mkdir(parents=True)
(root / "bundle" / "model.onnx").write_bytes(b"x" * 200_000)
uri = f"sqlite:///{root / 'mlflow.db'}"
client = MlflowClient(tracking_uri=uri, registry_uri=uri)
exp = client.create_experiment("fraud", artifact_location=(root / "artifacts").as_uri())
client.create_registered_model("fraud")
def register():
    run = client.create_run(exp)
    client.log_batch(run.info.run_id, metrics=[Metric("f1", 0.5, 0, 0)], params=[Param("max_depth", "4")])
    client.log_artifacts(run.info.run_id, str(root / "bundle"), "bundle")
    mv = client.create_model_version("fraud", f"{run.info.artifact_uri}/bundle", run.info.run_id)
    client.set_terminated(run.info.run_id)
    client.set_registered_model_alias("fraud", "challenger", mv.version)
register()
out = {"cold": [time.perf_counter() - t0, time.process_time() - c0]}
def med(name, fn):
    ws, cs = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time(); fn()
        ws.append(time.perf_counter() - t); cs.append(time.process_time() - c)
    out[name] = [statistics.median(ws), statistics.median(cs)]
med("register", register)
med("resolve", lambda: client.get_model_version_by_alias("fraud", "challenger"))
print(json.dumps(out))
"""


def _child(code: str, root: Path, repeats: int) -> dict[str, list[float]]:
    proc = subprocess.run(
        [sys.executable, "-c", code, str(root), str(repeats)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{proc.stderr[-3000:]}")
    result: dict[str, list[float]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _fmt(pair: list[float] | None) -> str:
    return "-" if pair is None else f"{pair[0] * 1000:8.1f} ms (cpu {pair[1] * 1000:6.1f})"


def main(argv: list[str] | None = None) -> None:
    """Run both sides and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="3 repeats instead of 20 (smoke run)")
    args = ap.parse_args(argv)
    repeats = 3 if args.quick else 20
    runs: dict[str, Callable[[Path], dict[str, list[float]]]] = {
        "shopml": lambda p: _child(CHILD_SHOPML, p, repeats),
        "mlflow": lambda p: _child(CHILD_MLFLOW, p, repeats),
    }
    results: dict[str, Any] = {}
    started = time.perf_counter()
    for name, run in runs.items():
        with tempfile.TemporaryDirectory() as tmp:
            results[name] = run(Path(tmp))
    ours, base = results["shopml"], results["mlflow"]
    print(f"registry benchmark, {repeats} repeats, medians; wall (process cpu)")
    print(f"{'operation':<24} {'shopml':>30} {'plain MLflow':>30}")
    for op in ours:
        print(f"{op:<24} {_fmt(ours[op]):>30} {_fmt(base.get(op)):>30}")
    cold = base["cold"][0] / ours["cold"][0]
    print(f"cold start (import + new store + first register): plain MLflow / shopml = {cold:.2f}x")
    print(
        f"register overhead of shopml over the bare calls: {ours['register'][0] / base['register'][0]:.2f}x"
    )
    print(f"total {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
