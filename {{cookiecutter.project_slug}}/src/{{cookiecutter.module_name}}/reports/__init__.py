"""What the pipeline shows: the report and its figures, the model card, the experiment
comparison, the paper table and the pull-request comment."""
