"""The nb101 search space: everything specific to it lives in this folder."""
