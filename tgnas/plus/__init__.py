"""TG-NAS+: the predictor's score combined with cheap training-free signals under a weighted rule.

* :mod:`tgnas.plus.signals`: the signal names (defined here once) and the tables of signals of
  a space's architectures (:func:`~tgnas.plus.signals.signal_table`), of all its benchmark cells
  (:func:`~tgnas.plus.signals.benchmark_signal_table`) and of a reference sample
  (:func:`~tgnas.plus.signals.reference_table`);
* :mod:`tgnas.plus.rule`: the rule (:class:`~tgnas.plus.rule.PlusRule`), its fit, its file and
  its check against the predictor checkpoint;
* :mod:`tgnas.plus.combine`: a signal table to scores under a normalisation (``reference`` /
  ``within``).

Everything here takes space *objects* (:class:`tgnas.spaces.base.Space`); names are resolved by
the CLI and the API. This package module imports nothing.
"""
