"""Command line: `python -m experiments {tasks,grids,run,search,report,export,import,...}`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # C++ errors of TensorFlow come back as Python exceptions


def cmd_tasks(args) -> int:
    from experiments.tasks import get_task, list_tasks

    for name in list_tasks():
        task = get_task(name)
        direction = "higher" if task.higher_is_better else "lower"
        print(f"{task.name}: {task.description}")
        print(f"    topology {task.topology} | metric {task.metric} ({direction} is better) | "
              f"baseline: {task.baseline_name}")
        for size, values in task.sizes.items():
            print(f"    {size:<8} " + ", ".join(f"{k}={v}" for k, v in values.items()))
        print(f"    data: {task.source} | {task.citation}")
    return 0


def cmd_check_task(args) -> int:
    from experiments.tasks.files import describe, load_task_file

    for path in args.files:
        print(describe(load_task_file(path)))
    return 0


def cmd_grids(args) -> int:
    from experiments.grids import GRIDS
    from experiments.planner import expand

    for name, grid in GRIDS.items():
        runs = expand(name)
        tasks = ", ".join(sorted({r.label for r in runs}))
        own = [f"{e['task']}: {', '.join(e['variants'])}" for e in grid["tasks"] if "variants" in e]
        print(f"{name}: {grid['description']}\n    {len(runs)} runs | tasks: {tasks} | "
              f"variants: {', '.join(grid['variants'])}" + (f" ({'; '.join(own)})" if own else "")
              + f" | seeds: {grid['seeds']}")
    print("\nA grid of your own: a TOML file with the same keys, run with --grid path/to/grid.toml, e.g.\n")
    from experiments import declarations

    print("\n".join("    " + line for line in declarations.__doc__.split("\n\n")[1].splitlines()))
    return 0


def cmd_settings(args) -> int:
    from experiments.settings import settings_help, settings_markdown

    if args.markdown:
        print(settings_markdown())
        return 0
    print("Settings (--set section.name=value; grids set them under `model` and `train`):")
    print(settings_help())
    print("Also: seeds=0,1,2 | size=smoke|default|paper | params.<task>.<name>=value (see `tasks`)")
    return 0


def cmd_run(args) -> int:
    from experiments.resume import checkpoint_seconds
    from experiments.runner import run

    checkpoint_seconds()  # a bad $RNNZOO_CHECKPOINT_SECONDS is named before any run starts
    return run(args.grid, args.set, args.only, args.storage, args.results, args.workers, args.worker_id, args.devices)


def cmd_search(args) -> int:
    from experiments.resume import checkpoint_seconds
    from experiments.search import search

    checkpoint_seconds()  # a bad $RNNZOO_CHECKPOINT_SECONDS is named before any run starts
    return search(args.space, args.set, args.only, args.storage, args.results, args.workers, args.worker_id,
                  args.phase, args.devices)


def cmd_spaces(args) -> int:
    from experiments.spaces import SPACES, Search

    for name, space in SPACES.items():
        plan = Search(name)
        searched = ", ".join(f"{k} {kind}{tuple(a) if kind != 'choice' else a}" for k, (kind, a) in plan.distributions.items())
        print(f"{name}: {space['description']}\n    {len(plan.runs) or 'adaptive'} search runs ({plan.trials} per variant and "
              f"task, sampler {plan.sampler}, pruner {plan.pruner}) + best settings over seeds "
              f"{','.join(map(str, plan.retrain_seeds))}\n    variants: {', '.join(plan.variants)} | tasks: "
              f"{', '.join(e.label for e in plan.entries)}\n    searched: {searched}")
    return 0


def cmd_report_search(args) -> int:
    from experiments.report.search import write_search_report

    return write_search_report(args.space, storage=args.storage, results_dir=args.results, out_dir=args.out,
                               overrides=args.set, only=args.only)


def cmd_export(args) -> int:
    from experiments.transfer import export_runs

    return export_runs(args.grid, args.space, args.only, args.storage, args.results, args.to)


def cmd_import(args) -> int:
    from experiments.transfer import import_runs

    return import_runs(args.files, args.storage, args.results)


def cmd_report(args) -> int:
    from experiments.report import write_report

    return write_report(args.grid, storage=args.storage, results_dir=args.results, out_dir=args.out,
                        overrides=args.set, only=args.only)


def run_folder(grid: str | None, only: str | None, overrides, storage, results) -> Path:
    """The local folder of the one run that `--grid` and `--only` pick, its files fetched from the
    artifact store when this machine did not train it."""
    from experiments.artifacts import artifact_store, artifacts_location, download_run
    from experiments.locations import default_results_dir, default_storage_url
    from experiments.planner import expand
    from experiments.runner import run_dir_for
    from experiments.store import Store

    if not grid or not only:
        raise ValueError("name the run: --run-dir FOLDER, or --grid NAME --only 'task=...,variant=...,seed=...'")
    runs = expand(grid, overrides, only)
    if len(runs) != 1:
        raise ValueError(f"--only {only!r} picks {len(runs)} runs of grid {grid!r}; name task, variant and seed so "
                         f"that it picks one: " + ", ".join(f"{r.label}/{r.variant}/seed {r.seed}" for r in runs[:6]))
    run = runs[0]
    results_dir = Path(results) if results else default_results_dir()
    folder = run_dir_for(results_dir, run)
    if (folder / "model.keras").exists():
        return folder
    records = [r for r in Store(storage or default_storage_url(results_dir), create=False).records(run.grid)
               if r.get("run_key") == run.key and r.get("status") == "finished"]
    if not records:
        raise ValueError(f"run {run.label}/{run.variant}/seed {run.seed} of grid {run.grid!r} has not finished in the "
                         "results store; train it first")
    fetched = download_run(records[-1], folder, artifact_store(artifacts_location(results_dir)))
    print(f"fetched {', '.join(fetched)} of the run from the artifact store into {folder}", file=sys.stderr)
    return folder


def cmd_generate(args) -> int:
    """Sample from a trained language model saved by the runner (model.keras + vocabulary.json)."""
    import zoo
    from experiments.topologies import load_language_model
    from experiments.vocabulary import BOS, EOS

    model, vocab, join = load_language_model(args.run_dir or run_folder(args.grid, args.only, args.set, args.storage,
                                                                        args.results))
    prompt = list(args.prompt) if join == "" else args.prompt.split()
    unknown = [t for t in prompt if t not in vocab.index]
    if unknown:
        raise ValueError(f"prompt tokens {unknown} are not in the model's vocabulary of {len(vocab)} tokens")
    ids = [[vocab.index[BOS]] + vocab.encode(prompt)] * args.count
    out = zoo.generate(model, ids, args.length, temperature=args.temperature, seed=args.seed,
                       end_id=vocab.index[EOS], banned_ids=vocab.special_ids)
    for row in out:
        print(join.join(vocab.decode(row)))
    return 0


def _add_training_options(p) -> None:
    """Where and how a command that trains (run, search) trains: workers, devices, store, folders."""
    p.add_argument("--workers", default="1", help="worker processes, or auto: one per GPU (1 on a CPU); on a "
                   "CPU the workers share the cores' threads")
    p.add_argument("--devices", help="GPU indices, one worker pinned to each, e.g. 0,1")
    p.add_argument("--storage", help="results store URL (default sqlite:///results/store.db)")
    p.add_argument("--results", help="folder for run artifacts (default results/)")
    p.add_argument("--artifacts", help="where finished runs' files are shared: a folder (a shared mount for many "
                   "machines) or s3://bucket; default $RNNZOO_ARTIFACTS, else results/artifacts")
    p.add_argument("--worker-id", help=argparse.SUPPRESS)


def _parser() -> argparse.ArgumentParser:
    from zoo.checks import non_negative_float_arg, non_negative_int_arg, positive_int_arg

    parser = argparse.ArgumentParser(prog="python -m experiments",
                                     description="Train the zoo's variants on sequence tasks and compare them.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("tasks", help="list the tasks with topology, metric, baseline and sizes").set_defaults(func=cmd_tasks)
    sub.add_parser("grids", help="list the experiment grids").set_defaults(func=cmd_grids)
    p = sub.add_parser("check-task", help="read a task file of your own data and show its splits, inputs, classes "
                       "and baseline (trains nothing)")
    p.add_argument("files", nargs="+", metavar="TASK.toml")
    p.set_defaults(func=cmd_check_task)
    p = sub.add_parser("settings", help="list every model and training setting with its default and valid values")
    p.add_argument("--markdown", action="store_true", help="as the documentation's Markdown table")
    p.set_defaults(func=cmd_settings)

    p = sub.add_parser("run", help="train every run of a grid (resumable)")
    p.add_argument("--grid", default="quick", help="grid name (see `grids`); default quick")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting: model.units=64, train.epochs=3, params.adding.T=100, seeds=0,1, size=smoke")
    p.add_argument("--only", help="filter runs by task, variant, seed, size or label (the task with its parameters), "
                   "e.g. 'task=adding,variant=gru|lstm' or 'label=adding(T=400)' (shell patterns)")
    _add_training_options(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("search", help="Greff's random search of each variant's settings, then the best over seeds")
    p.add_argument("--space", default="quick", help="search space (see `spaces`); default quick")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="change a fixed setting, the size or a task parameter (not what the space samples)")
    p.add_argument("--only", help="filter runs by task, variant, seed, size or label (the task with its parameters), "
                   "e.g. 'task=adding,variant=gru|lstm' or 'label=adding(T=400)' (shell patterns)")
    _add_training_options(p)
    p.add_argument("--phase", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_search)
    sub.add_parser("spaces", help="list the search spaces").set_defaults(func=cmd_spaces)

    p = sub.add_parser("report-search", help="write reports/search-<space>/ from the results store (never trains)")
    p.add_argument("--space", default="quick")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--only")
    p.add_argument("--storage")
    p.add_argument("--results")
    p.add_argument("--out", help="output folder (default reports/search-<space> beside the results folder)")
    p.add_argument("--workers", help=argparse.SUPPRESS)
    p.add_argument("--devices", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_report_search)

    p = sub.add_parser("generate", help="sample text from a trained language model (e.g. write Tang poems)")
    p.add_argument("--run-dir", help="a run folder holding model.keras and vocabulary.json")
    p.add_argument("--grid", help="or the grid of a run in the results store, with --only")
    p.add_argument("--only", help="the run, e.g. 'task=tang_poetry,variant=gru,seed=0'; its files come from the "
                   "artifact store when this machine did not train it")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="the --set the run was made with")
    p.add_argument("--storage")
    p.add_argument("--results")
    p.add_argument("--artifacts", help="artifact store: a folder or s3://bucket (default $RNNZOO_ARTIFACTS, else "
                   "results/artifacts)")
    p.add_argument("--prompt", default="", help="first characters (or words) of each sample")
    p.add_argument("--count", type=positive_int_arg, default=4, help="samples to write")
    p.add_argument("--length", type=positive_int_arg, default=48, help="tokens to generate at most")
    p.add_argument("--temperature", type=non_negative_float_arg, default=0.8, help="0 = greedy; higher = more varied")
    p.add_argument("--seed", type=non_negative_int_arg, default=0)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("report", help="write reports/<grid>/ from the results store (never trains)")
    p.add_argument("--grid", default="quick")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="report the runs made with these settings (the same --set as `run`)")
    p.add_argument("--only", help="report only these runs, e.g. 'task=adding' (as for `run`)")
    p.add_argument("--storage")
    p.add_argument("--results")
    p.add_argument("--out", help="output folder (default reports/<grid> beside the results folder)")
    p.add_argument("--workers", help=argparse.SUPPRESS)  # `make run ARGS=...` gives both commands the same
    p.add_argument("--devices", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("export", help="write the finished runs of a grid or search space to a file, for `import` "
                       "into another store (never trains)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--grid", help="a grid's runs (see `grids`), or a grid file")
    which.add_argument("--space", help="a search's runs (see `spaces`), or a search-space file")
    p.add_argument("--only", help="export only these runs, e.g. 'task=musedata' (as for `run`)")
    p.add_argument("--to", metavar="FILE", help="the file (.jsonl, or .jsonl.gz to compress); default "
                   "results/exports/<grid>.jsonl.gz")
    p.add_argument("--storage")
    p.add_argument("--results")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import", help="add the runs of export files to the results store (skips those already "
                       "done there); then `run`, `search` and the reports see them")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--storage")
    p.add_argument("--results")
    p.set_defaults(func=cmd_import)
    for command in sub.choices.values():
        command.add_argument("--tasks-from", action="append", default=[], metavar="MODULE",
                             help="a module of your own (or a .py file) that registers tasks with "
                             "experiments.tasks.register_task; workers import it too")
    return parser


def main(argv=None) -> int:
    try:  # importing zoo checks $KERAS_BACKEND first
        parser = _parser()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if getattr(args, "artifacts", None):
        os.environ["RNNZOO_ARTIFACTS"] = args.artifacts  # workers inherit it
    try:
        if args.tasks_from:
            from experiments.tasks import TASK_MODULES_VARIABLE, load_task_modules

            load_task_modules(args.tasks_from)  # an unknown module is named before anything runs
            known = [m for m in os.environ.get(TASK_MODULES_VARIABLE, "").split(",") if m]
            os.environ[TASK_MODULES_VARIABLE] = ",".join(dict.fromkeys(known + args.tasks_from))  # workers inherit it
        return args.func(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:  # store or data unavailable
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())  # its start is quiet: see zoo/__init__.py
