"""The nb201 search space: everything specific to it lives in this folder."""
