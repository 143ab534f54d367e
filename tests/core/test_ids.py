"""Case references: speakable alphabet, check symbol catches single errors and adjacent swaps."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from centralita.core.ids import (
    ALPHABET,
    check_symbol,
    is_valid_case_reference,
    new_case_reference,
    normalize_case_reference,
)

body = st.text(alphabet=ALPHABET, min_size=5, max_size=5)


def test_new_references_are_valid_and_speakable() -> None:
    refs = {new_case_reference() for _ in range(2000)}
    assert len(refs) > 1990
    for ref in refs:
        assert is_valid_case_reference(ref)
        assert not set(ref) & set("01IO")


@given(body, st.integers(0, 5), st.sampled_from(ALPHABET))
def test_any_single_symbol_error_is_caught(b: str, pos: int, ch: str) -> None:
    full = b + check_symbol(b)
    wrong = full[:pos] + ch + full[pos + 1 :]
    if wrong != full:
        assert normalize_case_reference(wrong) is None


@given(body, st.integers(0, 4))
def test_adjacent_transpositions_are_caught(b: str, pos: int) -> None:
    full = b + check_symbol(b)
    swapped = full[:pos] + full[pos + 1] + full[pos] + full[pos + 2 :]
    if swapped != full:
        assert normalize_case_reference(swapped) is None


def test_typed_forms_normalise() -> None:
    ref = new_case_reference()
    assert normalize_case_reference(ref.lower().replace("-", " ")) == ref
    assert normalize_case_reference("K7M-42") is None


def test_every_adjacent_swap_and_substitution_exhaustively() -> None:
    """All 32×31 symbol pairs at every position of a reference (the check symbol included)."""
    for x in ALPHABET:
        for y in ALPHABET:
            if x == y:
                continue
            for pos in range(5):
                body = list("K7M4Q")
                body[pos] = x
                if pos < 4:
                    body[pos + 1] = y
                full = "".join(body) + check_symbol("".join(body))
                if full[pos] != full[pos + 1]:
                    swapped = full[:pos] + full[pos + 1] + full[pos] + full[pos + 2 :]
                    assert normalize_case_reference(swapped) is None, (full, swapped)
                changed = full[:pos] + y + full[pos + 1 :]
                assert normalize_case_reference(changed) is None, (full, changed)
