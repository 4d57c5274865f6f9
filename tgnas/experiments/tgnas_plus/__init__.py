"""Notebook 06: the pure-predictor variant study (:mod:`.study`), the signal tables and the
evaluation of TG-NAS+ rules (:mod:`.signals`; the rule itself is :mod:`tgnas.plus.rule`), and
the notebook's report: selection, seeds, costs, goals, figure, ``metrics/plus.json``
(:mod:`.report`)."""
