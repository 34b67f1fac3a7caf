"""Experiments: the seed's research questions as declarative, paired, reproducible designs.

An experiment spec (:mod:`rexnet.experiment.spec`) names a base scenario, factors or shocks, seeds
and metrics; :mod:`~rexnet.experiment.conduct` runs it through the sweep machinery and forks;
:mod:`~rexnet.experiment.metrics` reads per-run metrics with SQL; :mod:`~rexnet.experiment.stats`
computes means and 95% intervals; :mod:`~rexnet.experiment.report` writes the output folder.
"""

from rexnet.experiment.spec import ExperimentSpec, builtin_names, load_experiment, parse_experiment

__all__ = ["ExperimentSpec", "builtin_names", "load_experiment", "parse_experiment"]
