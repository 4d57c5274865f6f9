#!/usr/bin/env python
"""The one prepared GPU check (at most ~10 minutes on one GPU).

Runs, each step time-boxed and recorded even when it fails:

1. ``predictor``: notebook 02 with the GPU profile (``params-gpu.yaml``: the ``pure-full``
   preset, all of NB101, 20 epochs, CUDA);
2. ``search``: notebook 04 with that checkpoint (10 seeds, 1,000 random DARTS genotypes);
3. ``final_training``: ``scripts/gpu_check_final_training.py`` (DDP world-size-1 equality,
   a time-boxed DARTS-V2 CIFAR-10 run with AMP, ImageNet-network throughput).

The GPU-profile stages that do not fit in 10 minutes (the correlations' ablations at full
scale, the 16-variant study, 600-epoch training) are left to ``make reproduce-gpu``.

Results: ``$OUT/gpu_check.json`` (one record per step: status, seconds, headline numbers)
and ``$OUT/gpu_check.log``; without ``$OUT``, under ``data/generated/gpu_check/``. The
notebooks' own outputs go to ``$OUT/outputs`` (``TGNAS_OUTPUT_ROOT``), never over the
pipeline's. The benchmark data root is ``$TGNAS_DATA`` (carry it to the GPU machine).

    OUT=gpu_out python scripts/gpu_check.py                  # on the GPU machine
    python scripts/gpu_check.py --device cpu --toy --steps predictor search   # CPU dry run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("predictor", "search", "final_training")
#: seconds per step on one GPU (the total stays under 10 minutes with start-up)
BUDGET_S = {"predictor": 300, "search": 90, "final_training": 170}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", nargs="+", default=list(STEPS), choices=STEPS)
    ap.add_argument("--device", default="cuda", help="cuda (default) or cpu for a dry run")
    ap.add_argument("--toy", action="store_true", help="tiny fractions and epochs (tgnas.profiles.TOY_OVERRIDES)")
    ap.add_argument("--cifar-zip", default=None, help="passed to gpu_check_final_training.py")
    args = ap.parse_args(argv)

    out = Path(os.environ.get("OUT") or ROOT / "data" / "generated" / "gpu_check").resolve()
    out.mkdir(parents=True, exist_ok=True)
    # set before tgnas is imported: every notebook output goes below $OUT
    os.environ.setdefault("TGNAS_OUTPUT_ROOT", str(out / "outputs"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    log = open(out / "gpu_check.log", "a")

    def say(msg: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    from tgnas import paths
    from tgnas.embeddings import available_models
    from tgnas.profiles import TOY_OVERRIDES, load_params, merge, run_stage

    params = load_params(gpu=True, overrides=TOY_OVERRIDES if args.toy else None)
    device = {"predictor": {"device": args.device}, "correlations": {"device": args.device},
              "plus": {"device": args.device}}
    models = ",".join(m for m in params["correlations"]["ablation_models"].split(",") if m in available_models())
    # TG-NAS+ searches need notebook 06's rule, which this check does not make, and cost CPU
    # time, not GPU time: the shipped predictor + rule, the cascade only, one small DARTS cascade
    plus = {"search": {"plus_rule": "shipped", "plus_algorithms": "cascade", "darts_seeds": 1, "darts_pool": 1000}}
    params = merge(params, device, plus, {"correlations": {"ablation_models": models}})
    results: dict = {"device": args.device, "toy": args.toy, "python": sys.version.split()[0],
                     "machine": platform.platform(), "output_root": str(paths.OUTPUT_ROOT), "steps": {}}
    try:
        import torch
        results["torch"] = torch.__version__
        results["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception as e:  # noqa: BLE001 -- recorded, the steps say the rest
        results["torch_error"] = repr(e)

    def record() -> None:
        (out / "gpu_check.json").write_text(json.dumps(results, indent=1, default=str))

    for step in args.steps:
        t0 = time.perf_counter()
        say(f"{step}: start (budget {BUDGET_S[step]} s)")
        rec: dict = {"budget_s": BUDGET_S[step]}
        try:
            if step == "final_training":
                cmd = [sys.executable, str(ROOT / "scripts" / "gpu_check_final_training.py"),
                       "--device", args.device, "--budget-s", str(BUDGET_S[step] - 60), "--epochs", "4",
                       "--out", str(out / "final_training_gpu_check.json")]
                if args.toy:
                    cmd += ["--layers", "3", "--init-channels", "4", "--train-images", "256", "--test-images", "100",
                            "--epochs", "1", "--imagenet-batch", "2", "--imagenet-steps", "1", "--ddp-images", "32",
                            "--batch-size", "16"]
                if args.cifar_zip:
                    cmd += ["--cifar-zip", args.cifar_zip]
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BUDGET_S[step])
                log.write(proc.stdout + proc.stderr)
                rec["returncode"] = proc.returncode
                if (out / "final_training_gpu_check.json").is_file():
                    rec["result"] = json.loads((out / "final_training_gpu_check.json").read_text())
                rec["status"] = "ok" if proc.returncode == 0 else "failed"
            else:
                stage_out = run_stage(step, params, out / "notebooks", cell_timeout_s=BUDGET_S[step],
                                      torch_threads=0 if args.device == "cuda" else 1)
                rec["notebook"] = str(stage_out)
                name = {"predictor": "predictor", "search": "search"}[step]
                rec["metrics"] = json.loads((paths.METRICS_DIR / f"{name}.json").read_text())
                rec["status"] = "ok"
        except subprocess.TimeoutExpired:
            rec["status"] = "timeout"
        except Exception as e:  # noqa: BLE001 -- one failing step must not hide the others
            rec["status"] = "failed"
            rec["error"] = "".join(traceback.format_exception_only(type(e), e)).strip()[-2000:]
            log.write(traceback.format_exc())
        rec["seconds"] = round(time.perf_counter() - t0, 1)
        results["steps"][step] = rec
        say(f"{step}: {rec['status']} in {rec['seconds']} s")
        record()
    say(f"wrote {out / 'gpu_check.json'}")
    return 0 if all(r["status"] == "ok" for r in results["steps"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
