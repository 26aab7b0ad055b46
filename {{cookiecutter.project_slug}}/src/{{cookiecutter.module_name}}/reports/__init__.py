"""What the pipeline shows: the report, model card, comparison, paper table and PR comment."""
