"""The package version, in a module of its own: the package ``__init__`` re-exports it, and code
that records it (checkpoints, ``tgnas --version``) imports it from here, so that no module
depends on the package ``__init__`` (whose lazy :func:`tgnas.score` imports half the package)."""

__version__ = "0.1.0"
