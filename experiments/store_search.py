"""The results store's part for a search (`experiments.search`): proposals of an adaptive sampler,
pruning, and the Optuna distributions that a search space's settings are filed with.
"""

from __future__ import annotations

import warnings

import optuna
from optuna.trial import TrialState

__all__ = ["SearchProposals", "SAMPLERS", "PRUNERS", "float_distribution", "int_distribution", "choice_distribution"]

SAMPLERS = ("random", "tpe", "qmc")
PRUNERS = ("hyperband", "median")


class SearchProposals:
    """What `experiments.store.Store` does for a search (a mixin of it: it uses the store's
    `storage`, `_guard`, `_set_attrs` and `_transition`)."""

    def propose(self, study: str, distributions: dict, sampler: str, seed: int = 0) -> dict:
        """A new trial of `study` whose parameters the sampler ("tpe", "random", ...) draws from
        the finished trials so far; returns its parameter values. `attach` then makes it a queued
        run (or `discard`s it)."""
        with self._guard(), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "heartbeat ... with Study.optimize": ours are the runner's
            handle = optuna.load_study(study_name=study, storage=self.storage, sampler=_sampler(sampler, seed))
            trial = handle.ask(_distributions(distributions))
        self._proposal = trial._trial_id
        return dict(trial.params)

    def attach(self, run) -> None:
        """Make the last proposal the queued run `run`."""
        self._set_attrs(self._proposal, {"run_key": run.key, "spec": run.to_json()})
        self._transition(self._proposal, TrialState.RUNNING, TrialState.WAITING)

    def discard(self, reason: str) -> None:
        """End the last proposal without a run (e.g. its settings were already tried)."""
        self._set_attrs(self._proposal, {"status": "skipped", "error": reason})
        self._transition(self._proposal, TrialState.RUNNING, TrialState.FAIL)

    def should_prune(self, claim, step: int, value: float, pruner: str) -> bool:
        """Record a run's intermediate value (e.g. the validation loss after an epoch) and ask the
        pruner ("hyperband", "median") whether to stop it."""
        with self._guard():
            self.storage.set_trial_intermediate_value(claim.trial_id, step, value)
            frozen = self.storage.get_trial(claim.trial_id)
            handle = optuna.load_study(study_name=claim.study, storage=self.storage, pruner=_pruner(pruner))
            return handle.pruner.prune(handle, frozen)



def _distributions(distributions: dict) -> dict:
    """Optuna distributions from their JSON form (or as they are)."""
    return {k: optuna.distributions.json_to_distribution(d) if isinstance(d, str) else d
            for k, d in distributions.items()}


def float_distribution(low, high, log=False) -> str:
    return optuna.distributions.distribution_to_json(optuna.distributions.FloatDistribution(low, high, log=log))


def int_distribution(low, high, log=False) -> str:
    return optuna.distributions.distribution_to_json(optuna.distributions.IntDistribution(low, high, log=log))


def choice_distribution(choices) -> str:
    return optuna.distributions.distribution_to_json(optuna.distributions.CategoricalDistribution(list(choices)))


def _sampler(name: str, seed: int):
    return {"random": optuna.samplers.RandomSampler, "tpe": optuna.samplers.TPESampler,
            "qmc": optuna.samplers.QMCSampler}[name](seed=seed)


def _pruner(name: str):
    return {"hyperband": optuna.pruners.HyperbandPruner, "median": optuna.pruners.MedianPruner}[name]()
