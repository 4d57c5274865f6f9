"""The command line starts light: ``tgnas --help`` and ``tgnas data check`` never import torch
(it used to take 4-10 s before the first line of help); a command loads its own module only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tgnas.cli import app

ROOT = Path(__file__).resolve().parents[1]
#: Modules that take seconds to import and that neither the help nor the data check needs.
HEAVY = ("torch", "torch_geometric", "sentence_transformers", "transformers", "pandas", "scipy", "sklearn")

_PROBE = """
import json, sys
from tgnas.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as e:  # --help exits through argparse
    status = e.code
print(json.dumps({"status": status, "loaded": sorted(m for m in sys.modules if m.split('.')[0] in %r)}))
""" % (HEAVY,)


def _run(*argv: str) -> dict:
    """Run the CLI in a fresh interpreter; its exit status and the heavy modules it imported."""
    done = subprocess.run([sys.executable, "-c", _PROBE, *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [("--help",), ("data", "check", "--quiet", "--root", "{tmp}"), ("data", "--help"),
                                  ("--version",)])
def test_help_and_data_check_import_no_heavy_module(argv, tmp_path):
    got = _run(*(a.format(tmp=tmp_path) for a in argv))
    assert got["loaded"] == [], f"tgnas {' '.join(argv)} imported {got['loaded'][:5]}"
    assert got["status"] in (0, 1)  # data check of an empty root: 1 (files missing)


def test_a_command_loads_its_own_module_only():
    """``tgnas score --help`` loads the score command (and torch), not the others' modules."""
    got = _run("score", "--help")
    assert got["status"] == 0 and "torch" in got["loaded"]  # the probe sees heavy imports when they happen
    parser = app.build_parser(("data",))
    loaded = {name for name, sub in parser._subparsers._group_actions[0].choices.items() if sub._actions[1:]}
    assert loaded == {"data"}


def test_every_command_is_listed_and_has_its_arguments():
    parser = app.build_parser()
    choices = parser._subparsers._group_actions[0].choices
    assert list(choices) == list(app.COMMANDS)
    help_text = parser.format_help()
    for name, command in app.COMMANDS.items():
        assert name in help_text and choices[name]._actions[1:], name  # more than -h: its module registered
        assert choices[name].get_default("command_name") == name
    assert app.command_of(["--debug", "score", "--all"]) == "score"
    assert app.command_of(["--help"]) is None and app.command_of(["nope"]) is None and app.command_of([]) is None
