"""Hyperparameter importance by fANOVA (Hutter et al. 2014; Greff et al. 2015, fig. 5).

Computed from plain records (the sampled settings, their distributions and a score), through an
in-memory Optuna study and its `FanovaImportanceEvaluator`: the store is not involved.
"""

from __future__ import annotations

import math
import warnings


def fanova_importance(trials: list[tuple[dict, dict, float]], higher_is_better: bool, seed: int = 0) -> dict[str, float]:
    """Share of the score's variance explained by each setting; `trials`: (values, distributions
    as Optuna JSON, score) of finished trials. Empty with fewer than 2 trials or no setting that
    varies."""
    import optuna

    trials = [t for t in trials if t[0] and math.isfinite(t[2])]
    if len(trials) < 2:
        return {}
    study = optuna.create_study(direction="maximize" if higher_is_better else "minimize")
    for values, distributions, score in trials:
        study.add_trial(optuna.trial.create_trial(
            params=values, value=score,
            distributions={k: optuna.distributions.json_to_distribution(d) if isinstance(d, str) else d
                           for k, d in distributions.items()}))
    varying = [k for k in trials[0][0] if len({str(t[0].get(k)) for t in trials}) > 1]
    if not varying:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks the evaluator's options experimental
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
        return dict(optuna.importance.get_param_importances(study, evaluator=evaluator, params=varying))
