"""Notebook 03: the NB201 rank-correlation table and timing (:mod:`.correlation`), the
cross-space transfer matrix (:mod:`.transfer`), ablations (:mod:`.ablations`), unseen
operators (:mod:`.unseen`), proxy independence (:mod:`.independence`) and the summary
``metrics/correlation.json`` (:mod:`.report`)."""
