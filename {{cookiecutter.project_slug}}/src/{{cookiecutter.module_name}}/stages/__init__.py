"""The DVC stages (see dvc.yaml): one module per stage, each reading params.yaml through params.py.

python -m {{ cookiecutter.module_name }}.stages config     # configs/ -> params.yaml
python -m {{ cookiecutter.module_name }}.stages data       # data.source -> data/raw, data/processed
python -m {{ cookiecutter.module_name }}.stages train      # data/processed -> models/ (+ an MLflow run)
python -m {{ cookiecutter.module_name }}.stages evaluate   # models/ + test data -> reports/

One module per stage, imported only when that stage runs, so each stage runs exactly the code its
dvc.yaml entry depends on (stages/code_deps.py derives those lists from the imports).

python -m {{ cookiecutter.module_name }}.stages.repro      # make repro: compose, then dvc repro, under one lock
"""
