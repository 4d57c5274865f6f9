"""Final training (tgnas.train): config, data pipeline, loop, resume, SIGTERM, CLI.

Networks are tiny (DARTS: 3 cells of 4 channels) and data synthetic (64 images), so the
whole file runs in seconds; real CIFAR-10 is read only for the normalisation check.
"""

from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest
import torch
from PIL import Image

from tgnas import datafiles
from tgnas.cli import main
from tgnas.spaces.darts.arch import DARTS_V2, format_genotype
from tgnas.train import config as tcfg
from tgnas.train import data as tdata
from tgnas.train import loop as tloop
from tgnas.train.config import FinalTrainConfig, preset, resolve_config
from tgnas.train.data import CifarAugment, TensorSplit
from tgnas.train.loop import FinalTrainData, StopFlag, parse_architecture, train_final

NB201_STR = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"



def synthetic_data(n_train: int = 64, n_test: int = 40, seed: int = 0) -> FinalTrainData:
    """Images whose mean colour depends on the class (learnable), uint8 (N, 3, 32, 32)."""
    g = torch.Generator().manual_seed(seed)

    def split(n):
        labels = torch.arange(n, dtype=torch.int64) % 10
        base = (labels.float() * 25.0).view(n, 1, 1, 1).expand(n, 3, 32, 32).clone()
        base[:, 1] = 255 - base[:, 1]
        noise = torch.randint(-30, 31, (n, 3, 32, 32), generator=g).float()
        return TensorSplit((base + noise).clamp(0, 255).to(torch.uint8), labels, "synthetic")

    return FinalTrainData(split(n_train), split(n_test), 10, "synthetic")


def tiny_cfg(**kw) -> FinalTrainConfig:
    base = dict(epochs=2, batch_size=16, layers=3, init_channels=4, train_images=None, test_images=None,
                drop_path_prob=0.3, device="cpu", progress=False, amp="off")
    base.update(kw)
    return preset("cifar10", "darts").with_overrides(base)


# --------------------------------------------------------------------------- config


def test_presets_hold_the_published_values():
    c = preset("cifar10", "darts")
    assert (c.epochs, c.batch_size, c.lr, c.momentum, c.weight_decay, c.lr_min) == (600, 96, 0.025, 0.9, 3e-4, 0.0)
    assert (c.layers, c.init_channels, c.cutout, c.auxiliary, c.auxiliary_weight) == (20, 36, 16, True, 0.4)
    assert (c.drop_path_prob, c.grad_clip, c.nesterov) == (0.3, 5.0, False)
    n = preset("cifar10", "nb201")
    assert (n.epochs, n.batch_size, n.lr, n.nesterov, n.weight_decay, n.init_channels, n.layers) == \
        (200, 256, 0.1, True, 5e-4, 16, 5)
    assert (n.cutout, n.drop_path_prob, n.grad_clip) == (0, 0.0, 0.0)
    i = preset("imagenet", "darts")
    assert (i.layers, i.init_channels, i.epochs, i.label_smoothing, i.warmup_epochs, i.weight_decay) == \
        (14, 48, 250, 0.1, 5, 3e-5)
    assert (i.batch_size, i.lr) == (1024, 0.5)
    s = preset("cifar10", "darts", smoke=True)
    assert (s.epochs, s.train_images, s.batch_size, s.layers, s.init_channels) == (1, 1024, 64, 8, 16)
    with pytest.raises(ValueError, match="no final-training protocol for nb201 cells on imagenet"):
        preset("imagenet", "nb201")


def test_overrides_are_coerced_and_checked():
    c = preset("cifar10", "darts").with_overrides(
        {"epochs": "3", "train_images": "none", "nesterov": "true", "lr": "0.05"})
    assert (c.epochs, c.train_images, c.nesterov, c.lr) == (3, None, True, 0.05)
    assert c.with_overrides({"train_images": 0, "data_source": "", "test_images": 500}).train_images is None
    assert c.with_overrides({"test_images": "500"}).test_images == 500
    with pytest.raises(ValueError, match="train_images must be an int >= 1"):
        c.with_overrides({"train_images": -1})
    with pytest.raises(KeyError, match="unknown final-training setting 'epoch'.*'epochs'"):
        c.with_overrides({"epoch": 3})
    with pytest.raises(ValueError, match="epochs must be an int, got 2.5"):
        c.with_overrides({"epochs": 2.5})
    with pytest.raises(ValueError, match="drop_path_prob must be in"):
        c.with_overrides({"drop_path_prob": 1.0})
    with pytest.raises(ValueError, match="epochs cannot be None"):
        c.with_overrides({"epochs": None})
    meta, over = tcfg.split_params({"genotype": "", "smoke": True, "epochs": 1, "train_images": 1024})
    assert meta == {"genotype": "", "smoke": True} and over == {"epochs": 1, "train_images": 1024}
    assert resolve_config("darts", "cifar10", True, over).train_images == 1024
    with pytest.raises(ValueError, match="overrides name dataset 'imagenet'"):
        resolve_config("darts", "cifar10", False, {"dataset": "imagenet"})


def test_warmup_cosine_schedule():
    f = tloop.WarmupCosine(total_steps=110, warmup_steps=10, floor=0.0)
    assert [f(s) for s in (0, 4, 9)] == pytest.approx([0.1, 0.5, 1.0])
    assert f(10) == pytest.approx(1.0) and f(60) == pytest.approx(0.5) and f(110) == pytest.approx(0.0)
    g = tloop.WarmupCosine(total_steps=100, floor=0.1)
    assert g(0) == pytest.approx(1.0) and g(100) == pytest.approx(0.1)


def test_parse_architecture_detects_the_kind():
    p = parse_architecture(format_genotype(DARTS_V2))
    assert p.space == "darts" and p.arch == DARTS_V2
    assert parse_architecture("darts_v2").arch == DARTS_V2
    q = parse_architecture(NB201_STR)
    assert q.space == "nb201" and q.text == NB201_STR
    with pytest.raises(ValueError, match="cannot tell the kind of genotype 'resnet'"):
        parse_architecture("resnet")
    with pytest.raises(ValueError, match="bad nb201 genotype: unknown NB201 op 'conv'"):
        parse_architecture("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(ValueError, match="bad darts genotype"):
        parse_architecture("Genotype(normal=[('sep_conv_3x3', 0)], reduce=[])")
    with pytest.raises(ValueError, match="non-empty string"):
        parse_architecture("  ")


def test_amp_only_on_cuda():
    cpu = torch.device("cpu")
    assert tloop.amp_dtype("auto", cpu) is None and tloop.amp_dtype("off", cpu) is None
    with pytest.raises(ValueError, match="amp='fp16' needs a CUDA device"):
        tloop.amp_dtype("fp16", cpu)


# --------------------------------------------------------------------------- data


def test_cifar10_split_dtypes_and_normalisation():
    try:
        split = tdata.load_cifar10_split("train", 503)
    except datafiles.DataFileError as err:
        pytest.skip(f"CIFAR-10 zip not available: {err}")
    assert split.images.shape == (503, 3, 32, 32) and split.images.dtype == torch.uint8
    assert split.labels.dtype == torch.int64
    counts = torch.bincount(split.labels, minlength=10)
    assert counts.max() - counts.min() <= 1 and counts.sum() == 503
    x = tdata.normalize(split.images, torch.tensor(tdata.CIFAR10_MEAN), torch.tensor(tdata.CIFAR10_STD))
    assert x.dtype == torch.float32
    mean, std = x.mean(dim=(0, 2, 3)), x.std(dim=(0, 2, 3))
    assert torch.all(mean.abs() < 0.08), mean
    assert torch.all((std - 1).abs() < 0.08), std


def test_balanced_subset_round_robin():
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2])
    keep = tdata.balanced_subset(labels, 5)
    assert keep.tolist() == [0, 1, 3, 4, 5]     # round 1: 0, 3, 5; round 2: 1, 4
    with pytest.raises(ValueError, match="asked for 10 samples but only 9"):
        tdata.balanced_subset(labels, 10)


def _batch(n=8, seed=0):
    return torch.randint(0, 256, (n, 3, 32, 32), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


def test_augment_is_determined_by_the_generator_seed():
    x = _batch()
    aug = CifarAugment()
    a = aug(x, torch.Generator().manual_seed(1))
    b = aug(x, torch.Generator().manual_seed(1))
    c = aug(x, torch.Generator().manual_seed(2))
    assert a.dtype == torch.float32 and a.shape == (8, 3, 32, 32)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    # consecutive batches from one generator differ too
    g = torch.Generator().manual_seed(1)
    assert not torch.equal(aug(x, g), aug(x, g))


def test_augment_transforms_do_what_they_say():
    x = _batch()
    mean, std = torch.tensor(tdata.CIFAR10_MEAN), torch.tensor(tdata.CIFAR10_STD)
    plain = tdata.normalize(x, mean, std)
    ident = CifarAugment(padding=0, cutout=0, flip=False)(x, torch.Generator().manual_seed(0))
    assert torch.allclose(ident, plain)
    flipped = CifarAugment(padding=0, cutout=0, flip=True)(x, torch.Generator().manual_seed(0))
    is_flip = [torch.allclose(flipped[i], plain[i].flip(2)) for i in range(8)]
    is_same = [torch.allclose(flipped[i], plain[i]) for i in range(8)]
    assert all(f or s for f, s in zip(is_flip, is_same)) and any(is_flip) and any(is_same)
    # cutout: a zeroed square of at most 16x16, the rest untouched
    cut = CifarAugment(padding=0, cutout=16, flip=False)(x, torch.Generator().manual_seed(0))
    changed = (cut != plain).any(dim=1)                               # (8, 32, 32)
    assert torch.all(cut.masked_select(changed[:, None].expand_as(cut)) == 0)
    sizes = changed.flatten(1).sum(1)
    assert sizes.max() <= 256 and sizes.min() > 0
    # crop: with padding 4 each output is a window of the zero-padded image
    g = torch.Generator().manual_seed(3)
    aug = CifarAugment(padding=4, cutout=0, flip=False)
    p = aug.draw(torch.Generator().manual_seed(3), 8, 32, 32)
    out = aug(x, g)
    padded = torch.nn.functional.pad(x.float() / 255, (4, 4, 4, 4))
    for i in range(8):
        dy, dx = int(p["dy"][i]), int(p["dx"][i])
        window = (padded[i, :, dy:dy + 32, dx:dx + 32] - mean.view(3, 1, 1)) / std.view(3, 1, 1)
        assert torch.allclose(out[i], window, atol=1e-6)


def test_augment_slice_of_global_batch_matches_whole():
    x = _batch(8)
    aug = CifarAugment()
    whole = aug(x, torch.Generator().manual_seed(5))
    part = aug(x[4:], torch.Generator().manual_seed(5), global_size=8, offset=4)
    assert torch.equal(whole[4:], part)
    with pytest.raises(ValueError, match="does not fit a global batch"):
        aug(x[4:], torch.Generator().manual_seed(5), global_size=8, offset=6)


def test_global_batches_and_rank_slices():
    b0 = tdata.global_batches(70, 16, seed=0, epoch=0)
    assert len(b0) == 4 and all(len(b) == 16 for b in b0)          # last 6 dropped
    assert torch.equal(torch.cat(b0), torch.cat(tdata.global_batches(70, 16, seed=0, epoch=0)))
    assert not torch.equal(torch.cat(b0), torch.cat(tdata.global_batches(70, 16, seed=0, epoch=1)))
    assert not torch.equal(torch.cat(b0), torch.cat(tdata.global_batches(70, 16, seed=1, epoch=0)))
    assert len(set(torch.cat(b0).tolist())) == 64
    parts = [tdata.rank_slice(b0[0], r, 4) for r in range(4)]
    assert torch.equal(torch.cat([p for p, _ in parts]), b0[0]) and [o for _, o in parts] == [0, 4, 8, 12]
    with pytest.raises(ValueError, match="does not split evenly over 3 ranks"):
        tdata.rank_slice(b0[0], 0, 3)
    shards = [tdata.eval_shard(10, r, 3) for r in range(3)]
    assert torch.equal(torch.cat(shards), torch.arange(10))


def _fake_imagenet(root, classes=("cat", "dog"), per_class=3):
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for k, name in enumerate(classes):
            (root / split / name).mkdir(parents=True)
            for i in range(per_class):
                w, h = 40 + 7 * i, 30 + 5 * k
                arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
                Image.fromarray(arr).save(root / split / name / f"img{i}.jpg", quality=90)
    (root / "train" / classes[0] / "notes.txt").write_text("not an image")


def test_image_folder_dataset_on_a_fake_tree(tmp_path):
    _fake_imagenet(tmp_path)
    train = tdata.ImageFolderDataset(tmp_path / "train", train=True, image_size=24, seed=0)
    assert train.classes == ("cat", "dog") and len(train) == 6
    x, y = train[4]
    assert x.shape == (3, 24, 24) and x.dtype == torch.uint8 and y == 1
    assert torch.equal(train[2][0], train[2][0])                 # (seed, epoch, index) fixes the crop
    first = train[2][0]
    train.set_epoch(1)
    assert not torch.equal(train[2][0], first)
    val = tdata.ImageFolderDataset(tmp_path / "val", train=False, image_size=24, classes=train.classes)
    assert val[0][0].shape == (3, 24, 24) and torch.equal(val[0][0], val[0][0])
    sub = tdata.ImageFolderDataset(tmp_path / "train", train=True, image_size=24, limit=3)
    assert sorted(sub.labels.tolist()) == [0, 0, 1]
    with pytest.raises(ValueError, match="missing \\['bird'\\]"):
        tdata.ImageFolderDataset(tmp_path / "val", train=False, classes=("bird", "cat", "dog"))


def test_image_folder_workers_decode_like_the_main_process(tmp_path):
    _fake_imagenet(tmp_path)
    ds = tdata.ImageFolderDataset(tmp_path / "train", train=True, image_size=16, seed=3)

    def batches(workers):
        sampler = tdata.ShardedBatchSampler(len(ds), 4, rank=0, world_size=2, seed=0, epoch=0)
        loader = torch.utils.data.DataLoader(ds, batch_sampler=sampler, num_workers=workers)
        return [(x.clone(), y.clone()) for x, y in loader]

    inproc, workers = batches(0), batches(2)
    assert len(inproc) == 1 and inproc[0][0].shape == (2, 3, 16, 16)
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(inproc, workers))


# --------------------------------------------------------------------------- loop


def _params(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_tiny_run_writes_logs_and_checkpoint(tmp_path):
    res = train_final(tiny_cfg(), "DARTS_V2", tmp_path, data=synthetic_data())
    assert not res.interrupted and res.epochs_done == 2 and len(res.step_losses) == 8
    lines = [json.loads(s) for s in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2]
    assert set(lines[0]) >= {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "images_per_s",
                             "lr", "seconds"}
    assert lines[0]["drop_path_prob"] == 0.0 and lines[1]["drop_path_prob"] == pytest.approx(0.15)
    assert 0 <= lines[1]["test_acc"] <= 100 and lines[1]["lr"] < lines[0]["lr"]
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert (ck["epoch"], ck["step_in_epoch"], ck["genotype"]) == (2, 0, format_genotype(DARTS_V2))
    assert json.loads((tmp_path / "result.json").read_text())["epochs_done"] == 2
    assert json.loads((tmp_path / "config.json").read_text())["config"]["layers"] == 3


def test_loss_decreases_on_learnable_data(tmp_path):
    cfg = tiny_cfg(epochs=4, lr=0.1, layers=1, drop_path_prob=0.0, cutout=0)
    res = train_final(cfg, NB201_STR, tmp_path, data=synthetic_data())
    first, last = np.mean(res.step_losses[:4]), np.mean(res.step_losses[-4:])
    assert last < first - 0.2, (first, last)


@pytest.mark.parametrize("stop_at", [(0, 2), (0, 4)], ids=["mid-epoch", "epoch-end"])
def test_resume_equals_uninterrupted_run(tmp_path, stop_at):
    data = synthetic_data()
    straight = train_final(tiny_cfg(), "DARTS_V2", tmp_path / "a", data=data)

    def interrupt(info):
        if (info.epoch, info.step) == stop_at:
            info.stop.set("test")

    part = train_final(tiny_cfg(), "DARTS_V2", tmp_path / "b", data=data, on_step=interrupt)
    assert part.interrupted and part.stop_reason == "test"
    ck = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert (ck["epoch"], ck["step_in_epoch"]) == ((0, 2) if stop_at == (0, 2) else (1, 0))
    resumed = train_final(tiny_cfg(), "DARTS_V2", tmp_path / "b", data=data, resume=True)
    assert not resumed.interrupted and resumed.epochs_done == 2
    a, b = _params(straight.model), _params(resumed.model)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert resumed.step_losses == straight.step_losses
    assert [r["test_acc"] for r in resumed.history] == [r["test_acc"] for r in straight.history]
    assert (tmp_path / "b" / "log.jsonl").read_text().count("\n") == 2


def test_resume_refuses_changed_settings(tmp_path):
    data = synthetic_data()
    train_final(tiny_cfg(epochs=1), "DARTS_V2", tmp_path, data=data)
    with pytest.raises(ValueError, match="lr: 0.025 \\(checkpoint\\) vs 0.05"):
        train_final(tiny_cfg(epochs=1, lr=0.05), "DARTS_V2", tmp_path, data=data, resume=True)


def test_sigterm_checkpoints_at_the_next_step(tmp_path):
    before = signal.getsignal(signal.SIGTERM)

    def kill(info):
        if info.step == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    res = train_final(tiny_cfg(), "DARTS_V2", tmp_path, data=synthetic_data(), on_step=kill)
    assert res.interrupted and res.stop_reason == "SIGTERM"
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert (ck["epoch"], ck["step_in_epoch"]) == (0, 1)
    assert signal.getsignal(signal.SIGTERM) == before


def test_outside_stop_request_is_honoured_after_one_step(tmp_path):
    stop = StopFlag()
    stop.set("outside")
    res = train_final(tiny_cfg(), "DARTS_V2", tmp_path, data=synthetic_data(), stop=stop)
    assert res.interrupted and res.stop_reason == "outside" and len(res.step_losses) == 1


def test_time_limit_stops_at_an_epoch_end(tmp_path):
    res = train_final(tiny_cfg(epochs=3, time_limit_s=1e-3), "DARTS_V2", tmp_path, data=synthetic_data())
    assert res.interrupted and res.epochs_done == 1 and "time limit" in res.stop_reason


# --------------------------------------------------------------------------- CLI


def test_bad_genotype_fails_before_loading_or_writing(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(tloop, "load_data", lambda cfg: calls.append(cfg))
    monkeypatch.setattr(tloop, "train_final", lambda *a, **k: calls.append(a))
    out = tmp_path / "run"
    rc = main(["train-final", "--genotype", "|nor_conv_3x3~0|+|bogus~0|none~1|+", "--out", str(out)])
    assert rc == 2 and calls == [] and not out.exists()
    assert "tgnas train-final: error:" in capsys.readouterr().err
    rc = main(["train-final", "--genotype", "Genotype(normal=[])", "--smoke", "--out", str(out)])
    assert rc == 2 and calls == [] and not out.exists()
    assert "bad darts genotype" in capsys.readouterr().err


def test_train_final_rejects_bad_genotype_first(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(tloop, "load_data", lambda cfg: calls.append(cfg))
    monkeypatch.setattr(tloop, "init_distributed", lambda device: calls.append(device))
    with pytest.raises(ValueError, match="node 2 must have 2 incoming edge"):
        train_final(tiny_cfg(), "|nor_conv_3x3~0|+|none~0|+|none~0|none~1|none~2|", tmp_path / "run")
    assert calls == [] and not (tmp_path / "run").exists()


def test_cli_settings_and_errors(tmp_path, monkeypatch, capsys):
    seen = {}

    def fake_train(cfg, parsed, out, resume=False, overwrite=False):
        seen.update(cfg=cfg, parsed=parsed, resume=resume, overwrite=overwrite)
        return tloop.FinalTrainResult(out, [], [], 0, True, "x", 0, 0.0, 0.0, 1, "cpu", "synthetic")

    monkeypatch.setattr(tloop, "train_final", fake_train)
    params = tmp_path / "params.yaml"
    params.write_text("final_training:\n  genotype: ''\n  smoke: true\n  epochs: 3\n  train_images: 128\n")
    rc = main(["train-final", "--genotype", NB201_STR, "--params", str(params), "--lr", "0.2",
               "--no-auxiliary", "--out", str(tmp_path / "o"), "--resume"])
    cfg = seen["cfg"]
    assert rc == tloop.EXIT_INTERRUPTED and seen["parsed"].space == "nb201" and seen["resume"]
    assert not seen["overwrite"]
    assert (cfg.epochs, cfg.train_images, cfg.lr, cfg.auxiliary, cfg.batch_size, cfg.layers) == \
        (3, 128, 0.2, False, 64, 1)                                   # nb201 smoke preset + overrides
    assert main(["train-final", "--genotype", "DARTS_V2", "--epochs", "x", "--out", "o"]) == 2
    assert "--epochs must be an int, got 'x'" in capsys.readouterr().err
    assert main(["train-final", "--genotype", "DARTS_V2", "--dataset", "imagenet", "--out", "o"]) == 2
    assert "ImageNet needs data_source" in capsys.readouterr().err


def test_cli_trains_on_real_cifar10_subset(tmp_path):
    try:
        datafiles.require("cifar10_jpg")
    except datafiles.DataFileError as err:
        pytest.skip(f"CIFAR-10 zip not available: {err}")
    rc = main(["train-final", "--genotype", "DARTS_V2", "--smoke", "--train-images", "32", "--test-images", "20",
               "--layers", "3", "--init-channels", "4", "--batch-size", "16", "--no-progress",
               "--device", "cpu", "--out", str(tmp_path)])
    assert rc == 0
    rec = json.loads((tmp_path / "log.jsonl").read_text().splitlines()[0])
    assert rec["epoch"] == 1 and np.isfinite(rec["train_loss"]) and 0 <= rec["test_acc"] <= 100
    # The official tarball wins when the data root has it (a fresh `tgnas data fetch`).
    expected = "python-tarball" if datafiles.status(datafiles.get("cifar10_python")) == "ok" else "jpeg-zip"
    assert json.loads((tmp_path / "result.json").read_text())["data_source"] == expected


def test_genotype_from_search_file(tmp_path):
    from tgnas.experiments.search import genotype_from_search
    assert genotype_from_search(tmp_path / "none.json") is None
    path = tmp_path / "search.json"
    path.write_text(json.dumps({"darts": {"arch_str": format_genotype(DARTS_V2), "score": 1.0}}))
    assert parse_architecture(genotype_from_search(path)).arch == DARTS_V2
    path.write_text(json.dumps({"nb201": {}}))
    with pytest.raises(KeyError, match="no DARTS genotype"):
        genotype_from_search(path)


def test_network_cost_helpers():
    from tgnas.train.cost import multiply_adds, run_hours
    net = tloop.build_model(tiny_cfg(), parse_architecture("DARTS_V2"), 10)
    conv = torch.nn.Conv2d(3, 4, 3, padding=1, bias=False)
    assert multiply_adds(torch.nn.Sequential(conv), 8) == 3 * 4 * 9 * 8 * 8
    assert multiply_adds(net, 32) > 0 and net.training                # mode restored
    assert run_hours(600, 50_000, 1000.0) == pytest.approx(600 * 50 / 3600)
    with pytest.raises(ValueError, match="images_per_s must be > 0"):
        run_hours(1, 1, 0.0)


def test_imagenet_folder_training_runs(tmp_path):
    _fake_imagenet(tmp_path / "in", classes=("a", "b", "c", "d"), per_class=2)
    cfg = preset("imagenet", "darts", smoke=True).with_overrides(dict(
        data_source=str(tmp_path / "in"), train_images=None, test_images=None, batch_size=4, layers=3,
        init_channels=8, num_workers=1, progress=False, device="cpu"))
    res = train_final(cfg, "DARTS_V1", tmp_path / "out")
    assert res.epochs_done == 1 and len(res.step_losses) == 2
    assert res.data_source.startswith("image-folder:") and res.model.classifier.out_features == 4
    assert 0 <= res.test_acc <= 100
