"""``python -m tgnas`` runs the same CLI as the ``tgnas`` console script."""

from tgnas.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
