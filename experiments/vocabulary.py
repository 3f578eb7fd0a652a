"""Token <-> id vocabularies of the text tasks, and the reserved tokens they share."""

from __future__ import annotations

import json
from collections import Counter

__all__ = ["Vocabulary", "PAD", "UNK", "BOS", "EOS"]

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"


class Vocabulary:
    """Token <-> id. Ids 0..3 are padding, unknown, begin and end; the rest by training frequency."""

    RESERVED = (PAD, UNK, BOS, EOS)

    def __init__(self, tokens: list[str]):
        self.tokens = list(self.RESERVED) + [t for t in tokens if t not in self.RESERVED]
        self.index = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def build(cls, sequences, min_count: int = 1, max_size: int | None = None) -> "Vocabulary":
        counts = Counter(token for seq in sequences for token in seq)
        ranked = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
        return cls(ranked[: max_size - len(cls.RESERVED)] if max_size else ranked)

    @classmethod
    def from_list(cls, tokens: list[str]) -> "Vocabulary":
        """The vocabulary whose id i is `tokens[i]`, as saved (see `tokens`)."""
        if list(tokens[: len(cls.RESERVED)]) != list(cls.RESERVED):
            raise ValueError(f"a saved vocabulary starts with {list(cls.RESERVED)}, got {list(tokens[:4])}")
        vocab = cls([])
        vocab.tokens = list(tokens)
        vocab.index = {t: i for i, t in enumerate(vocab.tokens)}
        return vocab

    @property
    def special_ids(self) -> tuple[int, ...]:
        """Ids that are never text: padding, unknown and begin (a sampler must not emit them)."""
        return tuple(self.index[t] for t in (PAD, UNK, BOS))

    def __len__(self):
        return len(self.tokens)

    def encode(self, tokens) -> list[int]:
        unk = self.index[UNK]
        return [self.index.get(t, unk) for t in tokens]

    def decode(self, ids, stop_at_end: bool = True) -> list[str]:
        out = []
        for i in ids:
            i = int(i)
            if i == 0 or (stop_at_end and self.tokens[i] == EOS):
                if stop_at_end:
                    break
                continue
            if self.tokens[i] != BOS:
                out.append(self.tokens[i])
        return out

    def to_json(self) -> str:
        return json.dumps(self.tokens, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Vocabulary":
        return cls.from_list(json.loads(text))
