"""Data-parallel training on CPU: 2 gloo processes against one process with the same global batch.

A BatchNorm-free network must match the one-process run to float rounding (same images,
same augmentation, gradients averaged over the two halves of each global batch). The
DARTS network has BatchNorm, whose batch statistics come from each rank's half batch, so
it matches only approximately; its two ranks must still hold identical weights, and the
sharded evaluation must equal a whole-test-set evaluation of those weights.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

from tgnas import datafiles, paths
from tgnas.train.loop import build_model, parse_architecture, train_final

sys.path.insert(0, str(paths.PROJECT_ROOT / "tests"))
from test_train_final import synthetic_data, tiny_cfg  # noqa: E402


class PlainNet(nn.Module):
    """Conv-ReLU x2, mean pool, linear: no batch-dependent layer. ``(B,3,32,32) -> (B,k)``."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        return self.fc(x.mean(dim=(2, 3)))


def plain_model(cfg, parsed, num_classes):
    return PlainNet(num_classes)


def _cfgs():
    return tiny_cfg(lr=0.05, epochs=1), tiny_cfg(drop_path_prob=0.0, epochs=1)


#: Seconds the two-rank run may take (a few seconds on this CPU), and a rank waits for the others at exit.
_RUN_TIMEOUT_S, _EXIT_WAIT_S = 600, 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _state(model):
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def _worker(rank, world, port, out_dir, data, which):
    """One rank of one 2-process run of config ``which`` ("plain" or "darts").

    One run per process, as under torchrun: a second run in the same process can block in
    the garbage collection of the first run's gloo objects (its peer has moved on).
    """
    import gc
    import os
    torch.set_num_threads(1)
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    plain_cfg, darts_cfg = _cfgs()
    if which == "plain":
        r = train_final(plain_cfg, "DARTS_V2", f"{out_dir}/plain", data=data, model_fn=plain_model)
    else:
        r = train_final(darts_cfg, "DARTS_V2", f"{out_dir}/darts", data=data)
    result = (r.step_losses, _state(r.model), r.history, r.world_size)
    del r
    gc.collect()  # release this run's process-group objects while every peer is still alive
    torch.save(result, f"{out_dir}/rank{rank}_{which}.pt")
    # Rank 0's process hosts the env:// TCP store: if it exits while another rank still
    # needs it, that rank waits for gloo's 30-minute timeout. No rank leaves before all saved.
    deadline = time.monotonic() + _EXIT_WAIT_S
    while not all(os.path.exists(f"{out_dir}/rank{k}_{which}.pt") for k in range(world)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"rank {rank}: the other ranks did not finish within {_EXIT_WAIT_S} s")
        time.sleep(0.05)


def _spawn(which: str, tmp, data) -> list:
    """Run ``which`` on 2 processes; each rank's ``(step_losses, state, history, world_size)``."""
    ctx = mp.start_processes(_worker, args=(2, _free_port(), str(tmp), data, which), nprocs=2, join=False,
                             start_method="spawn")
    deadline = time.monotonic() + _RUN_TIMEOUT_S
    while not ctx.join(timeout=5):  # raises if a rank failed; a hang becomes a failure, not a stuck CI
        if time.monotonic() > deadline:
            for proc in ctx.processes:
                proc.kill()
            pytest.fail(f"the 2-process DDP run ({which}) did not finish within {_RUN_TIMEOUT_S} s")
    return [torch.load(tmp / f"rank{r}_{which}.pt", weights_only=False) for r in range(2)]


@pytest.fixture(scope="module")
def ddp_and_single(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddp")
    data = synthetic_data()
    per_run = {which: _spawn(which, tmp, data) for which in ("plain", "darts")}
    ranks = [{which: per_run[which][r] for which in per_run} for r in range(2)]
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        plain_cfg, darts_cfg = _cfgs()
        single = {
            "plain": train_final(plain_cfg, "DARTS_V2", tmp / "single_plain", data=data, model_fn=plain_model),
            "darts": train_final(darts_cfg, "DARTS_V2", tmp / "single_darts", data=data),
        }
    finally:
        torch.set_num_threads(n)
    return ranks, single, data, tmp


def test_ddp_matches_single_process_without_batchnorm(ddp_and_single):
    ranks, single, _, tmp = ddp_and_single
    losses0, state0, hist0, world = ranks[0]["plain"]
    losses1, state1, _, _ = ranks[1]["plain"]
    assert world == 2 and len(losses0) == 4
    assert losses0 == losses1                                  # reduced over ranks: the same number
    np.testing.assert_allclose(losses0, single["plain"].step_losses, rtol=0, atol=1e-5)
    ref = _state(single["plain"].model)
    for k in ref:
        assert torch.equal(state0[k], state1[k]), k
        torch.testing.assert_close(state0[k], ref[k], rtol=0, atol=1e-5)
    assert [h["test_acc"] for h in hist0] == [h["test_acc"] for h in single["plain"].history]
    assert (tmp / "plain" / "checkpoint.pt").is_file() and (tmp / "plain" / "log.jsonl").is_file()


def test_ddp_darts_ranks_agree_and_track_single_process(ddp_and_single):
    ranks, single, data, _ = ddp_and_single
    losses0, state0, hist0, _ = ranks[0]["darts"]
    losses1, state1, _, _ = ranks[1]["darts"]
    for k in state0:
        assert torch.equal(state0[k], state1[k]), k
    # BatchNorm sees half batches: close, not equal
    np.testing.assert_allclose(losses0, single["darts"].step_losses, atol=0.15)
    # the sharded, all-reduced test accuracy equals evaluating rank 0's weights on everything
    _, darts_cfg = _cfgs()
    net = build_model(darts_cfg, parse_architecture("DARTS_V2"), 10)
    net.load_state_dict(state0)
    net.eval()
    from tgnas.train.data import CIFAR10_MEAN, CIFAR10_STD, normalize
    with torch.no_grad():
        x = normalize(data.test.images, torch.tensor(CIFAR10_MEAN), torch.tensor(CIFAR10_STD))
        acc = 100.0 * int((net(x)[0].argmax(1) == data.test.labels).sum()) / len(data.test.labels)
    assert hist0[-1]["test_acc"] == pytest.approx(acc, abs=1e-6)


@pytest.mark.slow
def test_torchrun_two_processes_cli(tmp_path):
    """``torchrun --nproc-per-node 2 -m tgnas train-final`` on real CIFAR-10 (slow: ~1 min)."""
    try:
        datafiles.require("cifar10_jpg")
    except datafiles.DataFileError as err:
        pytest.skip(f"CIFAR-10 zip not available: {err}")
    torchrun = shutil.which("torchrun", path=str(paths.PROJECT_ROOT / ".venv" / "bin")) or shutil.which("torchrun")
    if torchrun is None:
        pytest.skip("torchrun not found")
    cmd = [torchrun, "--nproc-per-node", "2", "--master-port", str(_free_port()), "-m", "tgnas", "train-final",
           "--genotype", "DARTS_V2", "--smoke", "--train-images", "64", "--test-images", "20",
           "--layers", "3", "--init-channels", "4", "--batch-size", "16", "--no-progress",
           "--device", "cpu", "--out", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["world_size"] == 2 and result["epochs_done"] == 1
