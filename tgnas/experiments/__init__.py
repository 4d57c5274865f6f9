"""Experiments of notebook 03: the NB201 rank-correlation table and timing, the
cross-space transfer matrix, ablations, unseen operators and proxy independence.

Each module holds functions with explicit parameters that return DataFrames or dicts;
the notebook only calls them, shows the results and asserts facts about them.
No run that is evaluated on NB201 ever sees an NB201 label in training or selection
(:func:`tgnas.experiments.common.check_no_nb201_labels`).
"""
