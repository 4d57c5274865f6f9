"""The notebooks' experiments, one subpackage (or module) per notebook.

* :mod:`tgnas.experiments.predictor_training` -- notebook 02: training history, learning curves;
* :mod:`tgnas.experiments.correlations` -- notebook 03: NB201 rank correlations and timing,
  cross-space transfer, ablations, unseen operators, proxy independence;
* :mod:`tgnas.experiments.search` -- notebook 04: search results over seeds;
* :mod:`tgnas.experiments.tgnas_plus` -- notebook 06: the pure-predictor study and TG-NAS+;
* :mod:`tgnas.experiments.common` -- what they share: NB201 truth, cached training runs,
  scoring, mean ± std over seeds.

Each module holds functions with explicit parameters that return DataFrames or dicts;
the notebook only calls them, shows the results and asserts facts about them.
No run that is evaluated on NB201 ever sees an NB201 label in training or selection
(:func:`tgnas.experiments.common.check_no_nb201_labels`).
"""
