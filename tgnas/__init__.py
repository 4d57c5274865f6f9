"""tgnas: a reproducible, working companion to TG-NAS (arXiv 2404.00271)."""

__version__ = "0.1.0"
