"""Run ``dvc exp run -S section.key=value ...`` with every key of a profile file.

    python scripts/profile_overrides.py params-gpu.yaml          # print the arguments
    python scripts/profile_overrides.py params-gpu.yaml --run    # run the experiment

Every key of the profile must exist in params.yaml (a typo would otherwise silently add a
parameter no stage reads).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import yaml


def overrides(profile: Path, base: Path) -> list[str]:
    prof = yaml.safe_load(profile.read_text()) or {}
    known = yaml.safe_load(base.read_text()) or {}
    args = []
    for section, values in prof.items():
        if section not in known:
            raise KeyError(f"{profile}: section {section!r} is not in {base} (sections: {sorted(known)})")
        for key, value in values.items():
            if key not in known[section]:
                raise KeyError(f"{profile}: {section}.{key} is not in {base} "
                               f"(keys of {section}: {sorted(known[section])})")
            text = str(value).lower() if isinstance(value, bool) else str(value)
            args += ["-S", f"{section}.{key}={text}"]
    return args


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    argv = [a for a in sys.argv[1:] if a != "--run"]
    profile = Path(argv[0]) if argv else root / "params-gpu.yaml"
    args = overrides(profile, root / "params.yaml")
    if "--run" in sys.argv:
        sys.exit(subprocess.call(["dvc", "exp", "run", *args], cwd=root))
    print(" ".join(shlex.quote(a) for a in args))
