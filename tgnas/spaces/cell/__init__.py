"""The cell search space: everything specific to it lives in this folder."""
