"""Published results, as data with citations, and how a grid's results are judged against them.

Two kinds of entry:

- `Published`: one number of a paper's table (a variant, a task as the paper set it, a metric,
  a value) with the paper's setting (sequence length, model size, optimizer, seeds, split).
  `compare` sets it beside this harness's scores over seeds and gives a verdict: `agrees` (the
  published value lies within the seeds' spread or the 95% interval of their mean), `better`,
  `worse`, or `not comparable` with the reason (another sequence length, corpus or metric).
- `Claim`: a qualitative finding ("NFG is worse than the peephole LSTM"), judged by Welch's test
  on every task of a grid where both variants ran: `supported`, `contradicted`, `mixed`, `not
  shown` (no task separates them) or `consistent` (for a claim of no difference: no task
  separates them, which is all that seeds can say).

References are never tuned to agree: where this harness disagrees after a fair run, the report
says so, with the differences of setting that may explain it.

    >>> from experiments.literature import PUBLISHED, CLAIMS, SOURCES
    >>> [p.value for p in PUBLISHED if p.source == "bai2018" and p.task == "adding"]
    [0.164, 5.3e-05, 0.177]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Source", "Published", "Claim", "Verdict", "SOURCES", "PUBLISHED", "CLAIMS", "compare", "counterpart",
           "fit_reading", "judge_claim", "published_for", "VERDICTS", "CLAIM_VERDICTS", "TaskRuns"]

VERDICTS = ("agrees", "better", "worse", "not comparable")
CLAIM_VERDICTS = ("supported", "contradicted", "mixed", "not shown", "consistent", "not decided", "not applicable here")
# What a claim's `requires` may name: the runs' training examples and epochs (medians over the
# runs of a task), or a task parameter such as the sequence length T.
# "converged": the share of the runs that early stopping ended before their epoch limit.
REQUIREMENTS = {"train_examples": "training sequences", "epochs": "epochs", "T": "steps (T)",
                "converged": "of the runs stopped by early stopping, not by the epoch limit"}


@dataclass(frozen=True)
class Source:
    authors: str
    title: str
    where: str  # venue or arXiv number

    def __str__(self):
        return f"{self.authors}, \"{self.title}\", {self.where}"


SOURCES = {
    "bai2018": Source("Bai, Kolter & Koltun 2018",
                      "An Empirical Evaluation of Generic Convolutional and Recurrent Networks for Sequence Modeling",
                      "arXiv:1803.01271"),
    "chung2014": Source("Chung, Gulcehre, Cho & Bengio 2014",
                        "Empirical Evaluation of Gated Recurrent Neural Networks on Sequence Modeling", "arXiv:1412.3555"),
    "le2015": Source("Le, Jaitly & Hinton 2015", "A Simple Way to Initialize Recurrent Networks of Rectified Linear Units",
                     "arXiv:1504.00941"),
    "jozefowicz2015": Source("Jozefowicz, Zaremba & Sutskever 2015",
                             "An Empirical Exploration of Recurrent Network Architectures", "ICML 2015"),
    "greff2017": Source("Greff, Srivastava, Koutnik, Steunebrink & Schmidhuber 2017", "LSTM: A Search Space Odyssey",
                        "IEEE TNNLS 28(10), arXiv:1503.04069 (2015)"),
    "field": Source("Textbook claims", "what courses on recurrent networks teach",
                    "e.g. the Keras MNIST-by-rows example; Chung et al. 2014 on GRU parameters"),
}


@dataclass(frozen=True)
class Published:
    """One published number.

    `match`: the task parameters that define the paper's version of the task (e.g. `{"T": 600}`);
    a run with other values is `not comparable`. `setting`: the paper's other settings, shown
    beside this run's (units or parameters, optimizer, epochs, seeds). `comparable`: a reason
    this project's task can never match the paper's (another corpus), or None.
    """

    source: str
    table: str
    task: str
    variant: str
    metric: str
    value: float
    match: dict = field(default_factory=dict)
    setting: dict = field(default_factory=dict)
    comparable: str | None = None
    checked: str = ""  # against what text the number was checked
    # The model's size as the paper counts it (e.g. the recurrent layer alone, on an input of
    # `counted_on` features): a run more than PARAMETER_TOLERANCE from it is not comparable.
    parameters: int | None = None
    counted_on: int | None = None
    # The paper trained until the validation score stopped improving: runs that every one stopped
    # at its epoch limit instead are not the paper's setting.
    until_converged: bool = False
    split: str = "test"  # the split the number is on ("train" for a training number)
    # What of the paper's setting this harness does not (or cannot) match: named beside a verdict
    # of better or worse, as where the difference may come from.
    not_matched: str = ""


_BAI = dict(source="bai2018", table="Table 1")
_BAI_CHECK = ("Table 1 of arXiv:1803.01271; the word-level PTB values (78.93, 92.48) also against a public "
              "results listing of the paper")
_BAI_SEEDS = "one run per model reported"

PUBLISHED: list[Published] = []
for _task, _match, _metric, _values, _setting, _comparable in [
    ("seq_mnist", {"order": "pixel"}, "accuracy", (0.872, 0.962, 0.215),
     {"T": 784, "parameters": "about 70k", "optimizer": "tuned per model (Adam or RMSprop), grid search", "split": "60k/10k"}, None),
    ("seq_mnist", {"order": "permuted"}, "accuracy", (0.857, 0.873, 0.253),
     {"T": 784, "parameters": "about 70k", "optimizer": "tuned per model", "split": "60k/10k"}, None),
    ("adding", {"T": 600}, "mse", (0.164, 5.3e-5, 0.177),
     {"T": 600, "parameters": "about 70k", "optimizer": "tuned per model", "train sequences": 50000}, None),
    ("copy_memory", {"T": 1000}, "cross_entropy", (0.0204, 0.0197, 0.0202),
     {"T": 1000, "parameters": "about 16k", "optimizer": "tuned per model", "train sequences": 30000}, None),
    ("bach_chorales", {}, "nll_per_frame", (8.45, 8.43, 8.91),
     {"parameters": "about 300k", "data": "JSB Chorales (Boulanger-Lewandowski et al. 2012 split)"},
     "the paper uses the JSB Chorales split of Boulanger-Lewandowski et al. 2012; this task uses music21's "
     "Bach chorales with its own split and quantisation"),
    ("ptb_char", {"n_train_tokens": 0}, "bits_per_token", (1.36, 1.37, 1.48),
     {"parameters": "about 3M", "seq_len": 400, "data": "PTB characters, Mikolov's splits"}, None),
    ("ptb_word", {"n_train_tokens": 0}, "perplexity", (78.93, 92.48, 114.50),
     {"parameters": "about 13M", "seq_len": 80, "data": "PTB words, Mikolov's splits"}, None),
]:
    for _variant, _value in zip(("lstm", "gru", "vanilla"), _values):
        PUBLISHED.append(Published(**_BAI, task=_task, variant=_variant, metric=_metric, value=_value, match=_match,
                                   setting={**_setting, "seeds": _BAI_SEEDS}, comparable=_comparable,
                                   checked=_BAI_CHECK))

# The same JSB Chorales numbers on the benchmark itself (Boulanger-Lewandowski et al.'s split):
# compared with runs of about Table 1's model size for the task.
for _variant, _value in zip(("lstm", "gru", "vanilla"), (8.45, 8.43, 8.91)):
    PUBLISHED.append(Published(**_BAI, task="jsb_chorales", variant=_variant, metric="nll_per_frame", value=_value,
                               setting={"parameters": "about 300k (Table 1's size for JSB Chorales)",
                                        "optimizer": "tuned per model", "data": "Boulanger-Lewandowski et al. 2012 "
                                        "split", "seeds": _BAI_SEEDS},
                               checked=_BAI_CHECK, parameters=300_000, counted_on=88,
                               not_matched="batches of 8 sequences (their code trains one sequence at a time: "
                                           "8x the updates per epoch); their per-model tuning (here their "
                                           "code's defaults: Adam 1e-3, clipping 0.2)"))

PUBLISHED += [
    # Le et al. 2015, Table 1 (pixel MNIST) and its permuted column: IRNN 97% and 82%.
    Published("le2015", "Table 1", "seq_mnist", "irnn", "accuracy", 0.97, {"order": "pixel"},
              {"T": 784, "units": 100, "optimizer": "SGD, learning rate 1e-8, gradient clipping 1", "seeds": "best run"},
              checked="Table 1; also a public results listing of the paper (97% unpermuted, 82% permuted)"),
    Published("le2015", "Table 1", "seq_mnist", "irnn", "accuracy", 0.82, {"order": "permuted"},
              {"T": 784, "units": 100, "optimizer": "SGD, learning rate 1e-8, gradient clipping 1", "seeds": "best run"},
              checked="the paper's Table 1"),
    # Chung et al. 2014, Table 2: test negative log-likelihood per frame on JSB Chorales.
    Published("chung2014", "Table 2", "bach_chorales", "gru", "nll_per_frame", 8.54, {},
              {"parameters": "about 20k", "optimizer": "RMSprop, weight noise", "data": "JSB Chorales"},
              comparable="the paper uses the JSB Chorales split of Boulanger-Lewandowski et al. 2012; this task uses "
                         "music21's Bach chorales with its own split and quantisation",
              checked="Table 2 (GRU, JSB Chorales, test); also a public results listing of the paper"),
]


# Chung et al. 2014, Table 2: test negative log-likelihood per time step on the four polyphonic
# music benchmarks, with models of about 20k parameters (their Table 1: the recurrent layer alone
# on a 96-dimensional input: tanh 100 units 19.8k, GRU 46 units 20.2k, LSTM 36 units 20.1k). Their
# LSTM has peepholes (this zoo's `peephole`) and their GRU resets before the recurrent matmul
# (`gru-original`); RMSProp, gradient clipping at 1, weight noise 0.075.
_CHUNG_SIZES = {"vanilla": (100, 19_800), "gru-original": (46, 20_200), "peephole": (36, 20_100)}
_CHUNG_TABLE_2 = [  # split, task, (tanh, GRU, LSTM)
    ("test", "nottingham", (3.13, 3.23, 3.20)), ("test", "jsb_chorales", (9.10, 8.54, 8.67)),
    ("test", "musedata", (6.23, 5.99, 6.23)), ("test", "piano_midi", (9.03, 8.82, 9.03)),
    ("train", "nottingham", (3.22, 2.79, 3.08)), ("train", "jsb_chorales", (8.82, 6.94, 8.15)),
    ("train", "musedata", (5.64, 5.06, 5.18)), ("train", "piano_midi", (5.64, 4.93, 6.49)),
]
# Settings the paper does not give, so not matched (docs/literature.md: what was measured about them).
_CHUNG_NOT_MATCHED = ("the batch size (8 here) and how long training went on past the best validation score "
                      "(early stopping's patience here: stopping later lowers the training NLL), whether the "
                      "training NLL was read with the weight noise on (off here), the input (the 88 keys here, "
                      "96 features there), the 10 learning-rate draws")
for _split, _task, _values in _CHUNG_TABLE_2:
    for _variant, _value in zip(("vanilla", "gru-original", "peephole"), _values):
        _units, _count = _CHUNG_SIZES[_variant]
        PUBLISHED.append(Published(
            "chung2014", "Table 2", _task, _variant, "nll_per_frame", _value, split=_split,
            setting={"units": _units, "parameters": f"{_count:,} (recurrent layer, 96-dim input)",
                     "optimizer": "RMSProp, clipping 1, weight noise 0.075, learning rate searched",
                     "data": "Boulanger-Lewandowski et al. 2012 split"},
            checked="Table 2 of arXiv:1412.3555 (train and test NLL, tanh / GRU / LSTM), as the issue quotes them",
            parameters=_count, counted_on=96, until_converged=True, not_matched=_CHUNG_NOT_MATCHED))

PARAMETER_TOLERANCE = 0.25  # a run's size within 25% of the paper's is the paper's model size

RELATIONS = ("worse", "better", "alike", "not_worse", "reaches")


@dataclass(frozen=True)
class Claim:
    """A qualitative finding: `variant` is `relation` ("worse", "better", "alike", "not_worse")
    than `other` on `tasks` (empty: every task of the grid), or ("reaches") scores at least
    `value` on them."""

    source: str
    where: str
    text: str
    variant: str
    relation: str
    other: str | None = None
    tasks: tuple = ()
    value: float | None = None
    match: dict = field(default_factory=dict)  # task parameters the claim is about, e.g. {"order": "row"}
    # The conditions under which the claim was found: the least training and the shortest sequences
    # it assumes (keys of REQUIREMENTS). A task run with less is "not applicable here", never judged.
    requires: dict = field(default_factory=dict)
    assumes: str = ""  # the conditions in words

    def applies_to(self, task: str, params: dict) -> bool:
        return (not self.tasks or task in self.tasks) and all(params.get(k) == v for k, v in self.match.items())

    def short_of(self, runs: "TaskRuns") -> list[str]:
        """What a task's runs lack of the claim's conditions, in words (empty: they meet them)."""
        seen = {**runs.params, **runs.training}
        return [f"{seen[key]:.0%} {REQUIREMENTS[key]} (the claim assumes {least:.0%})" if key == "converged" else
                f"{seen[key]:,.0f} {REQUIREMENTS[key]} (the claim assumes at least {least:,})"
                for key, least in self.requires.items() if key in seen and seen[key] < least]

    def __post_init__(self):
        if self.relation not in RELATIONS:
            raise ValueError(f"claim relation {self.relation!r} is unknown; valid: {', '.join(RELATIONS)}.")
        unknown = set(self.requires) - set(REQUIREMENTS)
        if unknown:
            raise ValueError(f"claim requirement(s) {sorted(unknown)} unknown; valid: {', '.join(REQUIREMENTS)}.")


# The conditions of the claims below. Bai et al. found their orderings on adding at T = 600 with
# about 200k training sequences; the textbook MNIST claims assume the whole training set (55-60k
# images) for several epochs.
_LONG_ADDING = {"T": 200, "train_examples": 10000}
_LONG_ADDING_TEXT = "found on long sequences (T = 600) with many training sequences"
_FULL_MNIST = {"train_examples": 50000, "epochs": 3}
_FULL_MNIST_TEXT = "found training on the whole MNIST training set (55-60k images) for several epochs"
# Claims about the quality a variant ends at (after a search of its settings, trained until
# early stopping): a run cut off by its epoch limit was still learning, and a faster learner is
# not a better model.
_CONVERGED = {"converged": 1.0}
_CONVERGED_TEXT = "found on models trained until early stopping ended them"
# Greff et al. ran their ablations on TIMIT, IAM Online and JSB Chorales: of these, only JSB
# Chorales is here, so their claims are judged there (not on music21's chorales, another corpus).
_GREFF_TASKS = ("jsb_chorales",)

CLAIMS = [
    Claim("greff2017", "Section V-A, Fig. 3", "removing the forget gate (NFG) makes the LSTM significantly worse",
          "nfg", "worse", "peephole", _GREFF_TASKS, requires=_CONVERGED, assumes=_CONVERGED_TEXT),
    Claim("greff2017", "Section V-A, Fig. 3", "removing the output activation (NOAF) makes the LSTM significantly worse",
          "noaf", "worse", "peephole", _GREFF_TASKS, requires=_CONVERGED, assumes=_CONVERGED_TEXT),
    Claim("greff2017", "Section V-A, Fig. 3", "coupling the input and forget gates (CIFG) does not hurt significantly",
          "cifg", "alike", "peephole", _GREFF_TASKS, requires=_CONVERGED, assumes=_CONVERGED_TEXT),
    Claim("greff2017", "Section V-A, Fig. 3", "removing the peepholes (NP, this zoo's `lstm`) does not hurt significantly",
          "lstm", "alike", "peephole", _GREFF_TASKS, requires=_CONVERGED, assumes=_CONVERGED_TEXT),
    Claim("chung2014", "Section 5, Table 2", "gated units (GRU, LSTM) beat the tanh RNN", "gru", "better", "vanilla"),
    Claim("chung2014", "Section 5", "the GRU is comparable to the LSTM", "gru", "alike", "lstm",
          requires=_CONVERGED, assumes=_CONVERGED_TEXT),
    Claim("jozefowicz2015", "Section 4", "with a forget-gate bias of 1 (as this zoo's `lstm`), the LSTM closes the gap "
          "to the GRU", "lstm", "not_worse", "gru", requires=_CONVERGED, assumes=_CONVERGED_TEXT),
    Claim("le2015", "Section 4", "an RNN of ReLUs with identity initialisation (IRNN) learns long dependencies "
          "the tanh RNN cannot", "irnn", "better", "vanilla", ("adding", "seq_mnist")),
    Claim("bai2018", "Table 1", "on the adding problem the GRU beats the LSTM", "gru", "better", "lstm", ("adding",),
          requires=_LONG_ADDING, assumes=_LONG_ADDING_TEXT),
    Claim("bai2018", "Table 1", "on the adding problem the GRU beats the Elman RNN", "gru", "better", "vanilla",
          ("adding",), requires=_LONG_ADDING, assumes=_LONG_ADDING_TEXT),
    Claim("bai2018", "Table 1", "on sequential MNIST the LSTM beats the Elman RNN", "lstm", "better", "vanilla",
          ("seq_mnist",), requires=_FULL_MNIST, assumes=_FULL_MNIST_TEXT),
    Claim("field", "seed claim", "an LSTM reading MNIST row by row reaches a test accuracy close to 1 (at least 0.97)",
          "lstm", "reaches", tasks=("seq_mnist",), value=0.97, match={"order": "row"}, requires=_FULL_MNIST,
          assumes=_FULL_MNIST_TEXT),
    Claim("field", "seed claim", "on row-by-row MNIST the LSTM is much better than the Elman RNN", "lstm", "better",
          "vanilla", ("seq_mnist",), match={"order": "row"}, requires=_FULL_MNIST, assumes=_FULL_MNIST_TEXT),
    Claim("field", "seed claim", "the GRU reaches the LSTM's quality with fewer parameters", "gru", "not_worse", "lstm",
          requires=_CONVERGED, assumes=_CONVERGED_TEXT),
]


def published_for(task: str, variant: str) -> list[Published]:
    return [p for p in PUBLISHED if p.task == task and p.variant == variant]


def counterpart(reference: Published) -> Published | None:
    """The same paper's number for the same model on the other split (train / test), if given."""
    for other in PUBLISHED:
        if (other.source, other.table, other.task, other.variant, other.metric) == (
                reference.source, reference.table, reference.task, reference.variant, reference.metric) \
                and other.split != reference.split:
            return other
    return None


def fit_reading(paper: dict, here: dict, lower_is_better: bool = True) -> str:
    """Train and test side by side, for a verdict of better or worse: `paper` and `here` map
    "train" and "test" to a score (here: the mean over seeds). Says how far each model fits its
    training set better than its test set and, where the numbers show it, that the model here
    underfits (its training score no better than its test score, and both worse than the
    paper's) or that the paper's fits its training set much more closely than the run here.
    "About as good" and "much more closely" are gaps of at most 5% and more than 10% of the
    paper's test score."""
    sign = 1.0 if lower_is_better else -1.0
    gap_paper = sign * (paper["test"] - paper["train"])  # > 0: fits the training set better
    gap_here = sign * (here["test"] - here["train"])
    text = (f"train / test here {here['train']:.2f} / {here['test']:.2f} (gap {gap_here:.2f}), in the paper "
            f"{paper['train']:.2f} / {paper['test']:.2f} (gap {gap_paper:.2f})")
    scale = abs(paper["test"]) or 1.0
    worse_on_both = all(sign * (here[k] - paper[k]) > 0 for k in ("train", "test"))
    if worse_on_both and gap_here <= 0.05 * scale:
        return text + (": the model here underfits (worse on both, and about as good on its training set as on "
                       "the test set)")
    if gap_paper - gap_here > 0.1 * scale:
        return text + (": the paper's model fits its training set far more closely than its test set, this one "
                       "stops at its best validation score")
    return text


@dataclass
class Verdict:
    verdict: str  # one of VERDICTS or CLAIM_VERDICTS
    reason: str


def _spread(scores, bounds) -> tuple[float, float, float, float]:
    from experiments.stats import confidence_interval

    scores = np.asarray(scores, dtype=float)
    low, high = confidence_interval(scores, bounds=bounds) if len(scores) > 1 else (math.nan, math.nan)
    return float(scores.min()), float(scores.max()), low, high


def compare(reference: Published, scores, params: dict, higher_is_better: bool, bounds=(None, None),
            parameters: int | None = None, converged: float | None = None) -> Verdict:
    """This harness's `scores` (one per seed) of a run with task parameters `params` against a
    published number; `parameters`: the run's size counted as the paper counts it (see
    `Published.parameters`); `converged`: the share of the runs that early stopping ended before
    their epoch limit."""
    if reference.comparable:
        return Verdict("not comparable", reference.comparable)
    if reference.until_converged and converged == 0:
        return Verdict("not comparable", "every run stopped at its epoch limit, still improving; the paper trained "
                                         "until the validation score stopped improving (raise train.epochs)")
    if reference.parameters is not None:
        if parameters is None:
            return Verdict("not comparable", "this run's size, counted as the paper counts it, is not known")
        if abs(parameters / reference.parameters - 1) > PARAMETER_TOLERANCE:
            return Verdict("not comparable", f"{parameters:,} parameters here against {reference.parameters:,} in the "
                                             f"paper (the recurrent layer on a {reference.counted_on}-feature input): "
                                             f"more than {PARAMETER_TOLERANCE:.0%} apart")
    differs = [f"{k}={params.get(k)!r} here, {v!r} in the paper" for k, v in reference.match.items()
               if params.get(k) != v]
    if differs:
        return Verdict("not comparable", "; ".join(differs))
    scores = [s for s in scores if s is not None and not math.isnan(s)]
    if len(scores) < 2:
        return Verdict("not comparable", f"{len(scores)} seed(s): no spread to compare with; run more seeds")
    lowest, highest, ci_low, ci_high = _spread(scores, bounds)
    value = reference.value
    if lowest <= value <= highest or ci_low <= value <= ci_high:
        return Verdict("agrees", f"{value:.4g} lies within the seeds' range [{lowest:.4g}, {highest:.4g}] "
                                 f"or the 95% CI [{ci_low:.4g}, {ci_high:.4g}]")
    mean = float(np.mean(scores))
    better = mean > value if higher_is_better else mean < value
    where = f"; not matched: {reference.not_matched}" if reference.not_matched else ""
    if reference.until_converged and converged is not None and converged < 1:  # judged on the runs that converged
        where = (f"; early stopping ended {converged:.0%} of the runs, the epoch limit the rest (still improving, "
                 f"so those scores may yet fall)") + where
    return Verdict("better" if better else "worse",
                   f"mean {mean:.4g} against {value:.4g}, outside the seeds' range [{lowest:.4g}, {highest:.4g}]{where}")


@dataclass(frozen=True)
class TaskRuns:
    """One task of a grid as a claim sees it: scores per variant (one per seed) and the task."""

    task: str
    params: dict
    higher_is_better: bool
    scores: dict  # variant -> [score per seed]
    training: dict = field(default_factory=dict)  # "train_examples", "epochs": medians over the task's runs


def judge_claim(claim: Claim, runs: dict[str, TaskRuns], parameters: dict | None = None,
                min_seeds: int | None = None, alpha: float | None = None) -> Verdict:
    """A claim against a grid's tasks (`runs[label]`); `parameters[variant]` (optional) for
    claims about size."""
    from experiments.stats import ALPHA, MIN_SEEDS, welch_p

    min_seeds = MIN_SEEDS if min_seeds is None else min_seeds
    alpha = ALPHA if alpha is None else alpha
    tasks = [label for label, r in runs.items() if claim.applies_to(r.task, r.params)]
    short = {label: claim.short_of(runs[label]) for label in tasks}
    if tasks and all(short.values()):
        lacking = "; ".join(f"{label}: {', '.join(short[label])}" for label in tasks)
        return Verdict("not applicable here", f"{claim.assumes or 'the claim assumes more training'}; here {lacking}")
    tasks = [label for label in tasks if not short[label]]
    scores = {label: runs[label].scores for label in tasks}
    higher_is_better = {label: runs[label].higher_is_better for label in tasks}
    if claim.relation == "reaches":
        seen = [(t, float(np.mean(scores[t][claim.variant]))) for t in tasks if len(scores[t].get(claim.variant, [])) >= 1]
        if not seen:
            return Verdict("not decided", f"no run of {claim.variant} on {', '.join(claim.tasks) or 'any task'}")
        reached = [f"{t}: {m:.4g}" for t, m in seen if (m >= claim.value if higher_is_better[t] else m <= claim.value)]
        text = ", ".join(f"{t}: mean {m:.4g}" for t, m in seen)
        verdict = "supported" if len(reached) == len(seen) else "contradicted" if not reached else "mixed"
        return Verdict(verdict, f"{text} (claim: {claim.value:g})")
    pairs = [t for t in tasks if len(scores[t].get(claim.variant, [])) >= min_seeds
             and len(scores[t].get(claim.other, [])) >= min_seeds]
    if not pairs:
        return Verdict("not decided", f"no task has {min_seeds} seeds or more of both {claim.variant} and {claim.other}")
    direction, significant = {}, {}
    for t in pairs:
        a, b = np.asarray(scores[t][claim.variant], float), np.asarray(scores[t][claim.other], float)
        a_better = a.mean() > b.mean() if higher_is_better[t] else a.mean() < b.mean()
        direction[t] = "better" if a_better else "worse"
        significant[t] = welch_p(a, b) < alpha
    n = len(pairs)
    size = ""
    if parameters and claim.variant in parameters and claim.other in parameters:
        size = f"; parameters {parameters[claim.variant]:,} against {parameters[claim.other]:,}"
    if claim.relation in ("alike", "not_worse"):
        separated = [t for t in pairs if significant[t] and (claim.relation == "alike" or direction[t] == "worse")]
        if not separated:
            what = "no significant difference" if claim.relation == "alike" else "not significantly worse"
            better = [t for t in pairs if significant[t] and direction[t] == "better"]
            return Verdict("consistent", f"{what} on {n} of {n} task(s) (Welch, p >= {alpha})"
                           + (f", significantly better on {len(better)}" if better else "")
                           + f"; with few seeds only large differences would show{size}")
        listed = ", ".join(f"{t} ({direction[t]})" for t in separated)
        verb = "differs from" if claim.relation == "alike" else "is worse than"
        return Verdict("contradicted", f"{claim.variant} {verb} {claim.other} at p < {alpha} on "
                                       f"{len(separated)} of {n} task(s): {listed}{size}")
    claimed = claim.relation
    opposite = "better" if claimed == "worse" else "worse"
    same = [t for t in pairs if direction[t] == claimed]
    same_sig = [t for t in same if significant[t]]
    against_sig = [t for t in pairs if direction[t] == opposite and significant[t]]
    text = (f"{claim.variant} {claimed} than {claim.other} on {len(same)} of {n} task(s), p < {alpha} on "
            f"{len(same_sig)}" + (f"; significantly {opposite} on {len(against_sig)} ({', '.join(against_sig)})"
                                  if against_sig else "") + size)
    if same_sig and not against_sig:
        return Verdict("supported", text)
    if against_sig and not same_sig:
        return Verdict("contradicted", text)
    if same_sig and against_sig:
        return Verdict("mixed", text)
    return Verdict("not shown", text + "; the seeds separate them on no task")
