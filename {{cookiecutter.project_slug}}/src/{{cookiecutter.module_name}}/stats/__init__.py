"""How much of a score is noise: cross-validation, bootstrap intervals and paired tests."""
