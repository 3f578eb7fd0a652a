"""The NER task: BIO spans and entity-level F1 as the CoNLL shared task scores them, and the
CoNLL-2003 files as distributed."""

from collections import Counter

import numpy as np
import pytest

from experiments.tasks import Split, get_task
from experiments.tasks.ner import entity_scores, parse_conll, score_ner, spans, to_bio
from experiments.vocabulary import Vocabulary


def test_spans_of_a_bio_sequence():
    tags = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-ORG", "I-ORG", "O", "I-MISC"]
    # conlleval: an I- that does not continue its type starts an entity
    assert spans(tags) == {("PER", 0, 1), ("LOC", 3, 3), ("LOC", 4, 4), ("ORG", 5, 6), ("MISC", 8, 8)}
    assert spans(["O", "O"]) == set()


def test_iob1_becomes_bio():
    assert to_bio(["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG"]) == ["B-PER", "I-PER", "O", "B-LOC", "B-LOC",
                                                                          "B-ORG"]
    assert to_bio(["B-PER", "I-PER"]) == ["B-PER", "I-PER"]


def test_entity_f1_counts_only_exact_entities():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    predicted = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "B-MISC"]]
    # right: PER(0-1), ORG(0-0); wrong type: LOC vs ORG; extra: MISC. 2 of 4 predicted, 2 of 3 gold.
    scores = entity_scores(gold, predicted)
    assert scores["entity_precision"] == pytest.approx(2 / 4) and scores["entity_recall"] == pytest.approx(2 / 3)
    assert scores["entity_f1"] == pytest.approx(2 * (1 / 2) * (2 / 3) / (1 / 2 + 2 / 3))
    truncated = entity_scores([["B-PER", "I-PER"]], [["B-PER", "O"]])  # a wrong end is a miss
    assert truncated["entity_f1"] == 0.0


def test_score_ignores_padding_and_reads_probabilities():
    tags = Vocabulary.build([["O", "B-PER", "I-PER"]])
    y = np.array([[tags.index["B-PER"], tags.index["I-PER"], tags.index["O"], 0, 0]])
    split = Split(np.ones_like(y), y, (y != 0).astype("float32"))
    probs = np.zeros(y.shape + (len(tags),))
    probs[0, np.arange(5), [tags.index["B-PER"], tags.index["I-PER"], tags.index["O"], tags.index["B-PER"],
                            tags.index["B-PER"]]] = 1  # a B-PER in the padding must not count
    scored = score_ner(split, probs, {"tags": tags})
    assert scored["entity_f1"] == 1.0 and scored["token_accuracy"] == 1.0


def test_conll_columns_are_parsed_without_document_separators():
    text = "-DOCSTART- -X- -X- O\n\nEU NNP B-NP I-ORG\nrejects VBZ B-VP O\n\nPeter NNP B-NP I-PER\nBlackburn NNP I-NP I-PER\n"
    assert parse_conll(text) == [[("EU", "B-ORG"), ("rejects", "O")], [("Peter", "B-PER"), ("Blackburn", "I-PER")]]


def test_too_many_sentences_is_named_before_anything_is_fetched():
    task = get_task("ner")
    with pytest.raises(ValueError, match="CoNLL-2003 has 3453 test sentences; n_test=5000 is too many"):
        task.check({**task.params, "n_test": 5000})


@pytest.mark.registry
def test_conll2003_as_distributed():
    from experiments.tasks.ner import load_conll2003

    parts = load_conll2003()
    assert {k: len(v) for k, v in parts.items()} == {"train": 14041, "val": 3250, "test": 3453}
    entities = Counter(kind for sentence in parts["train"] for kind, _, _ in spans([t for _, t in sentence]))
    assert entities == {"LOC": 7140, "PER": 6600, "ORG": 6321, "MISC": 3438}  # Tjong Kim Sang & De Meulder, Table 2
    data = get_task("ner").load(size="smoke", seed=0)
    tags = data.info["tags"]
    assert data.train.x.shape == (300, 40) and len(tags) - len(tags.RESERVED) == 9  # B- and I- of 4 types, and O
