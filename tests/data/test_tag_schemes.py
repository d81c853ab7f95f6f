"""Entity spans as conlleval reads them, worked by hand, and conversion between IOB1, IOB2 and
IOBES."""

import pytest

from rnnkit.data import Entity, convert, entities


@pytest.mark.parametrize("tags, spans", [
    # IOB2: every chunk starts with B-
    (["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "I-LOC"], [("PER", 0, 2), ("LOC", 3, 6)]),
    # IOB1: I- starts a chunk after O; B- separates two adjacent chunks of one type
    (["I-ORG", "I-ORG", "B-ORG", "O", "I-PER"], [("ORG", 0, 2), ("ORG", 2, 3), ("PER", 4, 5)]),
    # a change of type ends one chunk and starts another, whatever the prefix
    (["B-PER", "I-LOC", "I-LOC"], [("PER", 0, 1), ("LOC", 1, 3)]),
    (["B-MISC", "B-MISC", "I-MISC"], [("MISC", 0, 1), ("MISC", 1, 3)]),
    # IOBES
    (["S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC", "O", "B-ORG", "E-ORG"],
     [("PER", 0, 1), ("LOC", 1, 4), ("LOC", 4, 5), ("ORG", 6, 8)]),
    # broken IOBES: a chunk runs to the end without E-; E- then I- are two chunks
    (["O", "B-PER", "I-PER"], [("PER", 1, 3)]),
    (["E-PER", "I-PER"], [("PER", 0, 1), ("PER", 1, 2)]),
    (["O", "O"], []),
    ([], []),
])
def test_entities_as_conlleval(tags, spans):
    assert entities(tags) == [Entity(*span) for span in spans]


SAME_ENTITIES = {  # one sentence's entities in each scheme
    "IOB1": ["I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG", "I-ORG", "I-ORG", "O"],
    "IOB2": ["B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-ORG", "I-ORG", "I-ORG", "O"],
    "IOBES": ["B-PER", "E-PER", "S-PER", "O", "S-LOC", "B-ORG", "I-ORG", "E-ORG", "O"],
}


@pytest.mark.parametrize("source", SAME_ENTITIES)
@pytest.mark.parametrize("target", SAME_ENTITIES)
def test_convert_between_every_pair_of_schemes(source, target):
    assert convert(SAME_ENTITIES[source], target) == SAME_ENTITIES[target]


def test_bio_iobes_round_trip():
    bio = ["O", "B-MISC", "B-PER", "I-PER", "I-PER", "O", "B-LOC"]
    iobes = convert(bio, "IOBES")
    assert iobes == ["O", "S-MISC", "B-PER", "I-PER", "E-PER", "O", "S-LOC"]
    assert convert(iobes, "IOB2") == bio


def test_convert_repairs_a_chunk_that_starts_with_i():
    assert convert(["O", "I-PER", "I-PER"], "IOB2") == ["O", "B-PER", "I-PER"]


def test_malformed_tag_names_its_position():
    with pytest.raises(ValueError, match="tags: position 2: expected 'O' or one of B-TYPE, "
                                        "I-TYPE, E-TYPE, S-TYPE, got 'PER'"):
        entities(["O", "B-LOC", "PER"])
    with pytest.raises(ValueError, match="got 'X-PER'"):
        entities(["X-PER"])


def test_unknown_scheme():
    with pytest.raises(ValueError, match="scheme: expected one of IOB1, IOB2, IOBES, got 'BIO'"):
        convert(["O"], "BIO")
