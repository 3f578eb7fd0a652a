"""Every bad input to a public builder or a command line gets a clear error, named, before any
work: one table, one row per argument. A builder argument or a command-line option without a row
makes `test_every_argument_has_a_row` fail, so a new argument cannot go unchecked."""

import argparse
import inspect
import math
import re

import pytest

import zoo

LM = dict(vocab_size=20, units=4)


def _lm():
    return zoo.language_model("gru", **LM)


def _s2s():
    return zoo.seq2seq("gru", 12, 10, units=4, embedding_dim=4)


def _built_lstm():
    import keras

    layer = keras.layers.LSTM(4)
    layer.build((None, 3, 2))
    return layer


def _drawer():
    return zoo.one_to_many("gru", 3, 4, 2, units=4, feed="first_step_then_outputs")


# (function, argument, call, the message's pattern)
BUILDER_ROWS = [
    (zoo.recurrent_layer, "variant", lambda: zoo.recurrent_layer("lstn", 4), r"unknown variant 'lstn'. Did you mean 'lstm'"),
    (zoo.recurrent_layer, "units", lambda: zoo.recurrent_layer("lstm", 0), r"`units` must be a positive integer, got units=0"),
    (zoo.recurrent_layer, "num_layers", lambda: zoo.recurrent_layer("lstm", 4, num_layers=-1),
     r"`num_layers` must be a positive integer, got num_layers=-1"),
    (zoo.recurrent_layer, "kwargs", lambda: zoo.recurrent_layer("lstm", 4, dropuot=0.1), r"dropuot"),
    (zoo.make_cell, "variant", lambda: zoo.make_cell("gruu", 4), r"unknown variant 'gruu'"),
    (zoo.make_cell, "units", lambda: zoo.make_cell("gru", 1.5), r"`units` must be a positive integer, got units=1.5"),
    (zoo.make_cell, "dtype", lambda: zoo.make_cell("gru", 4, dtype="float13"), r"float13"),
    (zoo.make_cell, "options", lambda: zoo.make_cell("gru", 4, scan="fast"), r"`scan` must be one of auto, stepwise"),
    (zoo.Recurrent, "dropout", lambda: zoo.Recurrent("lstm", 4, dropout=1.5), r"`dropout` must be a number in \[0, 1\), got dropout=1.5"),
    (zoo.Recurrent, "merge_mode", lambda: zoo.Recurrent("bi-lstm", 4, merge_mode="max"), r"`merge_mode` must be one of concat, sum, ave, mul, got merge_mode='max'"),
    (zoo.Recurrent, "implementation", lambda: zoo.Recurrent("lstm", 4, implementation="cudnn"),
     r"`implementation` must be one of auto, builtin, zoo, got implementation='cudnn'"),
    (zoo.Recurrent, "cell_options", lambda: zoo.Recurrent("lstm", 4, cell_options={"peeps": True}), r"peeps"),
    (zoo.Recurrent, "return_sequences", lambda: zoo.Recurrent("lstm", 4, return_sequences="yes"),
     r"`return_sequences` must be True or False, got return_sequences='yes'"),
    (zoo.Recurrent, "return_state", lambda: zoo.Recurrent("lstm", 4, return_state=2),
     r"`return_state` must be True or False, got return_state=2"),
    (zoo.Recurrent, "go_backwards", lambda: zoo.Recurrent("lstm", 4, go_backwards="no"),
     r"`go_backwards` must be True or False"),
    (zoo.Recurrent, "stateful", lambda: zoo.Recurrent("lstm", 4, stateful=None), r"`stateful` must be True or False"),
    (zoo.Recurrent, "unroll", lambda: zoo.Recurrent("lstm", 4, unroll="x"), r"`unroll` must be True or False"),
    (zoo.ZooRNN, "cell", lambda: zoo.ZooRNN(zoo.make_cell("mingru", 4)), r"ZooRNN runs a zoo.cells.HoistableCell"),
    (zoo.many_to_one, "num_outputs", lambda: zoo.many_to_one("lstm", 0, input_dim=3), r"`num_outputs` must be a positive integer"),
    (zoo.many_to_one, "input_dim", lambda: zoo.many_to_one("lstm", 2, input_dim=-3), r"`input_dim` must be a positive integer"),
    (zoo.many_to_one, "vocab_size", lambda: zoo.many_to_one("lstm", 2, input_dim=3, vocab_size=9),
     r"give exactly one of `input_dim`"),
    (zoo.many_to_one, "embedding_dim", lambda: zoo.many_to_one("lstm", 2, vocab_size=9, embedding_dim=0),
     r"`embedding_dim` must be a positive integer"),
    (zoo.many_to_one, "timesteps", lambda: zoo.many_to_one("lstm", 2, input_dim=3, timesteps=0),
     r"`timesteps` must be a positive integer"),
    (zoo.many_to_one, "output_activation", lambda: zoo.many_to_one("lstm", 2, input_dim=3, output_activation="softmaxx"),
     r"softmaxx"),
    (zoo.many_to_one, "name", lambda: zoo.many_to_one("lstm", 2, input_dim=3, name=5), r"`name` must be a string, got name=5"),
    (zoo.language_model, "variant", lambda: zoo.language_model("bi-lstm", 20), r"bidirectional"),
    (zoo.language_model, "vocab_size", lambda: zoo.language_model("lstm", 1.0), r"`vocab_size` must be a positive integer"),
    (zoo.seq2seq, "source_vocab_size", lambda: zoo.seq2seq("lstm", 0, 5), r"`source_vocab_size` must be a positive integer"),
    (zoo.seq2seq, "target_vocab_size", lambda: zoo.seq2seq("lstm", 5, "5"), r"`target_vocab_size` must be a positive integer"),
    (zoo.seq2seq, "context", lambda: zoo.seq2seq("lstm", 5, 5, context="every"), r"unknown context 'every'"),
    (zoo.seq2seq, "attention", lambda: zoo.seq2seq("lstm", 5, 5, attention="dot"), r"unknown attention 'dot'"),
    (zoo.seq2seq, "units", lambda: zoo.seq2seq("lstm", 5, 5, units=0), r"`units` must be a positive integer"),
    (zoo.seq2seq, "num_layers", lambda: zoo.seq2seq("lstm", 5, 5, num_layers=0), r"`num_layers` must be a positive integer"),
    (zoo.seq2seq, "dropout", lambda: zoo.seq2seq("lstm", 5, 5, dropout=-0.1), r"`dropout` must be a number in \[0, 1\)"),
    (zoo.one_to_many, "input_dim", lambda: zoo.one_to_many("gru", 0, 3, 2), r"`input_dim` must be a positive integer"),
    (zoo.one_to_many, "steps", lambda: zoo.one_to_many("gru", 2, 0, 2), r"`steps` must be a positive integer"),
    (zoo.one_to_many, "output_dim", lambda: zoo.one_to_many("gru", 2, 3, 0), r"`output_dim` must be a positive integer"),
    (zoo.one_to_many, "feed", lambda: zoo.one_to_many("gru", 2, 3, 2, feed="first"), r"unknown feed 'first'"),
    (zoo.generate, "model", lambda: zoo.generate(_s2s(), [1], 2), r"is not a language model"),
    (zoo.generate, "prompt", lambda: zoo.generate(_lm(), [[1, 2], [3]], 2), r"`prompt` must be token ids"),
    (zoo.generate, "length", lambda: zoo.generate(_lm(), [1], 0), r"`length` must be a positive integer, got length=0"),
    (zoo.generate, "temperature", lambda: zoo.generate(_lm(), [1], 2, temperature=math.nan),
     r"`temperature` must be a finite number >= 0"),
    (zoo.generate, "seed", lambda: zoo.generate(_lm(), [1], 2, seed=-1), r"`seed` must be a non-negative integer, got seed=-1"),
    (zoo.generate, "end_id", lambda: zoo.generate(_lm(), [1], 2, end_id=20), r"`end_id` must be a token id in \[0, 20\)"),
    (zoo.generate, "banned_ids", lambda: zoo.generate(_lm(), [1], 2, banned_ids=[25]), r"`banned_ids` must be ids in \[0, 20\)"),
    (zoo.greedy_decode, "model", lambda: zoo.greedy_decode(_lm(), [[1]], start_id=1, max_length=2), r"is not a zoo.seq2seq model"),
    (zoo.greedy_decode, "source", lambda: zoo.greedy_decode(_s2s(), [[1, -1]], start_id=1, max_length=2),
     r"`source` holds token id -1"),
    (zoo.greedy_decode, "start_id", lambda: zoo.greedy_decode(_s2s(), [[1]], start_id=1.5, max_length=2),
     r"`start_id` must be a token id in \[0, 10\)"),
    (zoo.greedy_decode, "max_length", lambda: zoo.greedy_decode(_s2s(), [[1]], start_id=1, max_length=-2),
     r"`max_length` must be a positive integer"),
    (zoo.greedy_decode, "end_id", lambda: zoo.greedy_decode(_s2s(), [[1]], start_id=1, max_length=2, end_id=-1),
     r"`end_id` must be a token id in \[0, 10\)"),
    (zoo.beam_decode, "beam_width", lambda: zoo.beam_decode(_s2s(), [[1]], start_id=1, max_length=2, beam_width=0),
     r"`beam_width` must be a positive integer"),
    (zoo.unroll, "model", lambda: zoo.unroll(_lm(), [[1.0, 0, 0]]), r"does not take its previous outputs"),
    (zoo.unroll, "vector", lambda: zoo.unroll(_drawer(), [[1.0, 0]]), r"`vector` must have shape \(batch, 3\)"),
    (zoo.attention_model, "model", lambda: zoo.attention_model(_s2s()), r"has no attention"),
    (zoo.transfer_lstm_weights, "source", lambda: zoo.transfer_lstm_weights("lstm", zoo.make_cell("peephole", 4)),
     r"`source`"),
    (zoo.transfer_lstm_weights, "target", lambda: zoo.transfer_lstm_weights(_built_lstm(), "peephole"),
     r"`target`"),
]

# Arguments whose every value is valid or that are checked by the argument they go with.
FREE = {
    zoo.make_cell: set(),
    zoo.many_to_one: {"variant", "units", "num_layers", "dropout", "layer_kwargs"},  # as recurrent_layer's
    zoo.beam_decode: {"model", "source", "start_id", "max_length", "end_id"},  # as greedy_decode's
    zoo.many_to_many: "same as many_to_one",
    zoo.language_model: {"embedding_dim", "units", "num_layers", "dropout", "name", "layer_kwargs"},
    zoo.seq2seq: {"variant", "embedding_dim", "name", "layer_kwargs"},
    zoo.one_to_many: {"variant", "units", "num_layers", "dropout", "output_activation", "name", "layer_kwargs"},
    zoo.Recurrent: {"variant", "units", "num_layers", "kwargs"},  # as recurrent_layer's
    zoo.ZooRNN: {"kwargs"},  # keras.layers.RNN's own
}


@pytest.mark.parametrize("function, argument, call, message", BUILDER_ROWS,
                         ids=[f"{f.__name__}-{a}" for f, a, _, _ in BUILDER_ROWS])
def test_a_bad_argument_is_named(function, argument, call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_every_argument_has_a_row():
    rows = {(f, a) for f, a, _, _ in BUILDER_ROWS}
    missing = []
    for function in {f for f, _, _, _ in BUILDER_ROWS} | set(FREE):
        free = FREE.get(function, set())
        if isinstance(free, str):
            continue
        for name in inspect.signature(function).parameters:
            if name not in free and (function, name) not in rows:
                missing.append(f"{function.__name__}({name})")
    assert not missing, f"bad-input rows missing for {missing}"


# --- the command lines ---------------------------------------------------------------------------------

def _experiments(argv):
    from experiments.__main__ import main

    return main(argv)


def _zoo(argv):
    from zoo.__main__ import main

    return main(argv)


def _bench(argv):
    from zoo.bench import main

    return main(argv)


def _gpu_check(argv):
    from experiments.gpu_check import main

    return main(argv)


# (entry point, its argv, the message's pattern); each option of each command has a row below or
# a reason in CLI_FREE.
CLI_ROWS = [
    (_experiments, ["run", "--grid", "nosuch"], r"unknown grid 'nosuch'. Valid grids"),
    (_experiments, ["run", "--set", "train.learning_rate=nan"], r"train.learning_rate must be a finite number, got 'nan'"),
    (_experiments, ["run", "--only", "colour=red"], r"--only key 'colour' is unknown; valid keys: task, variant"),
    (_experiments, ["run", "--workers", "0"], r"--workers must be a positive integer or auto, got 0"),
    (_experiments, ["run", "--devices", "x"], r"--devices"),
    (_experiments, ["run", "--storage", "bogus://x"], r"cannot open the results store 'bogus://x'"),
    (_experiments, ["run", "--results", "/proc/nope"], r"cannot write run artifacts to /proc/nope"),
    (_experiments, ["run", "--artifacts", "/proc/nope"], r"cannot write run artifacts to /proc/nope"),
    (_experiments, ["search", "--space", "nosuch"], r"unknown search space 'nosuch'"),
    (_experiments, ["search", "--phase", "nope"], r"--phase must be one of search, retrain, got 'nope'"),
    (_experiments, ["search", "--space", "smoke", "--set", "train.learning_rate=0.1"], r"--set cannot fix what the search"),
    (_experiments, ["search", "--space", "smoke", "--only", "variant=gru"], r"--only variant='gru' matches nothing"),
    (_experiments, ["report", "--grid", "smok"], r"unknown grid 'smok'. Did you mean 'smoke'"),
    (_experiments, ["report", "--grid", "smoke", "--set", "model.units=0"], r"model.units must be an integer >= 1"),
    (_experiments, ["report", "--grid", "smoke", "--only", "task=nosuch"], r"--only task='nosuch' matches nothing"),
    (_experiments, ["report", "--storage", "sqlite:////proc/nope/store.db"], r"results store"),
    (_experiments, ["report", "--results", "/proc/nope"], r"cannot write the report to /proc"),  # reports/ beside it
    (_experiments, ["report", "--out", "/proc/nope/report"], r"cannot write the report to /proc/nope"),
    (_experiments, ["search", "--space", "smoke", "--workers", "0"], r"--workers must be a positive integer or auto"),
    (_experiments, ["search", "--space", "smoke", "--devices", "x"], r"--devices: GPU x does not exist"),
    (_experiments, ["search", "--space", "smoke", "--storage", "bogus://x"], r"cannot open the results store 'bogus://x'"),
    (_experiments, ["search", "--space", "smoke", "--results", "/proc/nope"], r"cannot write run artifacts to /proc/nope"),
    (_experiments, ["search", "--space", "smoke", "--artifacts", "/proc/nope"], r"cannot write run artifacts to /proc/nope"),
    (_experiments, ["report-search", "--space", "nosuch"], r"unknown search space 'nosuch'"),
    (_experiments, ["report-search", "--set", "model.units=5"], r"--set cannot fix what the search samples"),
    (_experiments, ["report-search", "--only", "variant=peephole"], r"--only variant='peephole' matches nothing"),
    (_experiments, ["report-search", "--storage", "bogus://x"], r"cannot open the results store 'bogus://x'"),
    (_experiments, ["report-search", "--results", "/proc/nope"], r"cannot write the report to /proc"),
    (_experiments, ["report-search", "--out", "/proc/nope/report"], r"cannot write the report to /proc/nope"),
    (_experiments, ["export", "--grid", "smoek"], r"unknown grid 'smoek'.*smoke"),
    (_experiments, ["export", "--space", "chnug"], r"unknown search space 'chnug'.*chung"),
    (_experiments, ["export"], r"one of the arguments --grid --space is required"),
    (_experiments, ["export", "--grid", "smoke", "--only", "adding"], r"--only takes key=pattern"),
    (_experiments, ["export", "--grid", "smoke", "--to", "/proc/nope/x.jsonl"], r"cannot write the runs to /proc/nope"),
    (_experiments, ["export", "--grid", "smoke", "--storage", "bogus://x"], r"cannot open the results store 'bogus:"),
    (_experiments, ["export", "--grid", "smoke", "--results", "/proc/nope"], r"cannot write the runs to /proc/nope"),
    (_experiments, ["import", "/nope/runs.jsonl.gz"], r"no export file at /nope/runs.jsonl.gz"),
    (_experiments, ["generate", "--grid", "smoke", "--only", "task=nosuch"], r"--only task='nosuch' matches nothing"),
    (_experiments, ["generate", "--grid", "smoke", "--only", "task=adding,variant=lstm", "--set", "model.units=0"],
     r"model.units must be an integer >= 1"),
    (_experiments, ["generate", "--grid", "smoke", "--only", "task=adding,variant=lstm", "--storage", "bogus://x"],
     r"cannot open the results store 'bogus://x'"),
    (_experiments, ["generate", "--grid", "smoke", "--only", "task=adding,variant=lstm", "--results", "/proc/nope"],
     r"no results store at /proc/nope"),
    (_experiments, ["generate", "--grid", "smoke", "--only", "task=adding,variant=lstm", "--artifacts", "/proc/nope"],
     r"no results store"),  # the first thing wrong here: nothing has been trained
    (_experiments, ["generate", "--run-dir", "/nope"], r"/nope/model.keras does not exist"),
    (_experiments, ["generate", "--grid", "smoke"], r"name the run: --run-dir FOLDER, or --grid NAME --only"),
    (_experiments, ["generate", "--count", "0"], r"argument --count: must be a positive integer, got '0'"),
    (_experiments, ["generate", "--count", "-1"], r"argument --count: must be a positive integer, got '-1'"),
    (_experiments, ["generate", "--length", "0"], r"argument --length: must be a positive integer"),
    (_experiments, ["generate", "--temperature", "-1"], r"argument --temperature: must be a finite number >= 0"),
    (_experiments, ["generate", "--seed", "-1"], r"argument --seed: must be a non-negative integer, got '-1'"),
    (_zoo, ["list", "--tag", "nosuch"], r"unknown tag 'nosuch'. Valid tags: bidirectional, core, greff, modern"),
    (_zoo, ["list", "*transformer*"], r"no variant matches pattern '\*transformer\*'"),
    (_zoo, ["show", "lstn"], r"unknown variant 'lstn'. Did you mean 'lstm'"),
    (_zoo, ["gradients", "lstn"], r"unknown variant 'lstn'"),
    (_zoo, ["gradients", "lstm", "--T", "1"], r"--T must be at least 2"),
    (_zoo, ["gradients", "lstm", "--units", "0"], r"argument --units: must be a positive integer"),
    (_zoo, ["gradients", "lstm", "--steps", "-1"], r"argument --steps: must be a non-negative integer"),
    (_zoo, ["gradients", "lstm", "--learning-rate", "nan"], r"argument --learning-rate: must be a finite number > 0"),
    (_zoo, ["gradients", "lstm", "--clipnorm", "-1"], r"argument --clipnorm: must be a finite number >= 0"),
    (_zoo, ["gradients", "lstm", "--seed", "-1"], r"argument --seed: must be a non-negative integer"),
    (_zoo, ["gradients", "lstm", "--out", "/nope/flow.png"], r"cannot write the plot to --out /nope/flow.png"),
    (_bench, ["--variants", "lstmm"], r"unknown variant 'lstmm'"),
    (_bench, ["--long-variants", "*nosuch*"], r"--variants pattern '\*nosuch\*' matches no variant"),
    (_bench, ["--shapes", "1x2"], r"a shape is BATCHxSTEPSxFEATURESxUNITS of positive integers, got '1x2'"),
    (_bench, ["--rounds", "0"], r"argument --rounds: must be a positive integer, got '0'"),
    (_bench, ["--warmup", "-1"], r"argument --warmup: must be a positive integer"),
    (_bench, ["--variants", "lstm", "--out", "/proc/nope/bench"], r"cannot write the benchmark to --out /proc/nope/bench"),
    (_gpu_check, ["run", "--shapes", "8x20x4"], r"--shapes: a shape is BATCHxSTEPSxFEATURESxUNITS"),
    (_experiments, ["check-task", "/nope/mine.toml"], r"no such file /nope/mine.toml"),
    (_experiments, ["check-task", "--tasks-from", "nosuchmodule", "x.toml"], r"--tasks-from 'nosuchmodule': cannot import"),
    *[(_experiments, [command, "--tasks-from", "nosuchmodule"], r"--tasks-from 'nosuchmodule': cannot import it")
      for command in ("tasks", "grids", "settings", "run", "search", "spaces", "report-search", "generate", "report")],
    (_experiments, ["export", "--grid", "smoke", "--tasks-from", "nosuch"], r"--tasks-from 'nosuch': cannot import"),
    (_experiments, ["import", "--tasks-from", "nosuch", "x.jsonl"], r"--tasks-from 'nosuch': cannot import it"),
]

# Options of one command that a row cannot show in-process, each with where it is checked.
CLI_FREE_IN = {
    ("_gpu_check", "run", "--wheelhouse"): "installs packages: a missing or incomplete wheelhouse is named in "
                                           "tests/test_gpu_check.py",
    ("_gpu_check", "run", "--site"): "a folder to install into, made when missing",
    ("_gpu_check", "run", "--out"): "the GPU report's folder, made when missing (tests/test_gpu_check.py)",
    ("_gpu_check", "run", "--tiny"): "a switch", ("_gpu_check", "run", "--allow-cpu"): "a switch",
    ("_gpu_check", "wheelhouse", "--out"): "downloads (needs a package index): the folder is made when missing",
    ("_experiments", "import", "--storage"): "needs a good export file first (every file is read before the store "
                                             "is opened): tests/test_transfer.py",
    ("_experiments", "import", "--results"): "as import --storage: tests/test_transfer.py",
}

CLI_FREE = {
    "--help": "argparse's own",
    "--markdown": "a switch", "--verbose": "a switch",
    "--worker-id": "internal: set by the runner for its workers",
    "--workers": "report and report-search take it so that `make run ARGS=...` gives both commands the same; "
                 "ignored there (a row above for run and search)",
    "--devices": "as --workers",
    "--prompt": "any text; tokens the model does not know are named (test_cli)",
    "--bench-dir": "a folder to read; a missing one says 'not measured yet' (test_cli)",
    "pattern": "a shell pattern: one that matches nothing is a row above ('list')",
    "variants": "names: an unknown one is a row above ('gradients')",
    "name": "a name: an unknown one is a row above ('show')",
    "files": "task files: a missing one is a row above ('check-task')",
}


@pytest.mark.parametrize("entry, argv, message", CLI_ROWS, ids=[" ".join(a) for _, a, _ in CLI_ROWS])
def test_a_bad_command_line_is_named_before_any_work(entry, argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RNNZOO_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("RNNZOO_ARTIFACTS", str(tmp_path / "artifacts"))  # restored after: --artifacts sets it
    try:
        code = entry(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    captured = capsys.readouterr()
    assert code in (1, 2), captured  # 2: a bad argument; 1: a store or folder that cannot be used
    assert re.search(message, captured.err), captured.err
    assert not (tmp_path / "results" / "store.db").exists()  # nothing was trained or stored


def _options(parser: argparse.ArgumentParser, prefix=()):
    """(command path, option) of every argument of `parser` and its subcommands."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _options(sub, (*prefix, name))
        else:
            yield prefix, (action.option_strings[-1] if action.option_strings else action.dest)


def test_every_command_line_option_has_a_row():
    from experiments.__main__ import _parser as experiments_parser
    from experiments.gpu_check import _parser as gpu_check_parser
    from zoo.__main__ import _parser as zoo_parser
    from zoo.bench.cli import _parser as bench_parser

    covered = {(entry, () if argv[0].startswith("-") else (argv[0],), a)
               for entry, argv, _ in CLI_ROWS for a in argv if a.startswith("-")}
    missing = []
    parsers = ((_experiments, experiments_parser()), (_zoo, zoo_parser()), (_bench, bench_parser()),
               (_gpu_check, gpu_check_parser()))
    for entry, parser in parsers:
        for command, option in _options(parser):
            if (entry.__name__, *command[:1], option) in CLI_FREE_IN:
                continue
            if (entry, command[:1], option) in covered or (option in CLI_FREE and option not in ("--workers", "--devices")):
                continue
            if option in ("--workers", "--devices") and command[:1] in (("report",), ("report-search",)):
                continue
            missing.append(f"{entry.__name__} {' '.join(command)} {option}")
    assert not missing, f"bad-input rows missing for {missing}"


# --- the environment and the files a command reads -----------------------------------------------

def test_an_unknown_or_missing_backend_is_named_with_the_choices(monkeypatch):
    from zoo.checks import check_backend

    monkeypatch.setenv("KERAS_BACKEND", "nosuch")
    with pytest.raises(ValueError, match=r"KERAS_BACKEND='nosuch' is not a Keras backend; valid backends: jax, numpy, "
                                         r"openvino, tensorflow, torch"):
        check_backend()
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)  # as if the package were not installed
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    with pytest.raises(ValueError, match=r'KERAS_BACKEND=jax needs the jax package, which is not installed here: '
                                         r'pip install "jax\[cpu\]"'):
        check_backend()
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    with pytest.raises(ValueError, match=r"KERAS_BACKEND=torch needs the torch package, which is not installed here: "
                                         r"make install-torch, or pip install torch"):
        check_backend()


@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan"])
def test_a_bad_heartbeat_interval_names_the_variable(value, monkeypatch):
    from experiments.supervision import seconds_from_environment

    monkeypatch.setenv("RNNZOO_HEARTBEAT_SECONDS", value)
    with pytest.raises(ValueError, match=rf"\$RNNZOO_HEARTBEAT_SECONDS must be a number of seconds > 0 \(default 20\), "
                                         rf"got '{value}'"):
        seconds_from_environment("RNNZOO_HEARTBEAT_SECONDS", 20)
    monkeypatch.setenv("RNNZOO_HEARTBEAT_SECONDS", "2.5")
    assert seconds_from_environment("RNNZOO_HEARTBEAT_SECONDS", 20) == 2.5


def test_a_task_parameter_below_its_real_bound_is_refused():
    from experiments.planner import expand

    with pytest.raises(ValueError, match=r"adding.T must be >= 2 \(two marked values need two distinct steps\), got 1"):
        expand("smoke", ["params.adding.T=1"])
    assert {r.params["T"] for r in expand("smoke", ["params.adding.T=2"]) if r.task == "adding"} == {2}


def test_damaged_run_files_are_named(tmp_path):
    from experiments.topologies import load_language_model

    run = tmp_path / "run"
    run.mkdir()
    (run / "model.keras").write_bytes(b"not a zip file")
    (run / "vocabulary.json").write_text("{garbled")
    with pytest.raises(ValueError, match=rf"{run / 'vocabulary.json'} is not a vocabulary the runner wrote"):
        load_language_model(run)
    (run / "vocabulary.json").write_text('{"topology": "language_model", "task": "ptb_char", "tokens": ["<pad>", '
                                          '"<unk>", "<s>", "</s>", "a"], "join": ""}')
    with pytest.raises(ValueError, match=rf"{run / 'model.keras'} exists but is not a model Keras can load"):
        load_language_model(run)
