"""Entity spans as conlleval reads them, worked by hand, conversion between IOB1, IOB2 and
IOBES, and conlleval's chunk counts and scores."""

import pytest

from rnnkit.data import ChunkCounts, Entity, chunk_counts, chunk_scores, convert, entities


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


# (gold, predicted, (correct, gold, found)): one sentence each, counted by hand as conlleval
SCORED = [
    (["B-PER", "I-PER", "O", "B-LOC"], ["B-PER", "I-PER", "O", "B-LOC"], (2, 2, 2)),
    # partial matches: too short, too long
    (["B-ORG", "I-ORG", "I-ORG"], ["B-ORG", "I-ORG", "O"], (0, 1, 1)),
    (["B-LOC", "O"], ["B-LOC", "I-LOC"], (0, 1, 1)),
    # the right span with the wrong type
    (["B-PER", "I-PER"], ["B-ORG", "I-ORG"], (0, 1, 1)),
    # I- without B- starts a chunk (conlleval's rule, which IOB1 needs)
    (["O", "B-PER", "I-PER"], ["O", "I-PER", "I-PER"], (1, 1, 1)),
    # I- of another type ends one chunk and starts another
    (["B-PER", "B-LOC"], ["B-PER", "I-LOC"], (2, 2, 2)),
    # one chunk missed, one found where there is none
    (["B-MISC", "O", "O"], ["O", "O", "B-MISC"], (0, 1, 1)),
    (["O", "O"], ["O", "O"], (0, 0, 0)),
    # predicted in IOBES, gold in BIO: the entities are compared, not the tags
    (["B-PER", "I-PER", "O", "B-LOC"], ["B-PER", "E-PER", "O", "S-LOC"], (2, 2, 2)),
    # two adjacent chunks of one type predicted as one
    (["B-PER", "B-PER"], ["B-PER", "I-PER"], (0, 2, 1)),
]


@pytest.mark.parametrize("gold, predicted, counts", SCORED)
def test_chunk_counts_as_conlleval(gold, predicted, counts):
    assert chunk_counts(gold, predicted) == ChunkCounts(*counts)


def test_chunk_scores_sum_counts_over_sentences_as_conlleval():
    total = sum((chunk_counts(gold, predicted) for gold, predicted, _ in SCORED),
                ChunkCounts(0, 0, 0))
    assert total == ChunkCounts(7, 13, 12)
    precision, recall, f1 = chunk_scores(total)
    assert precision == pytest.approx(7 / 12) and recall == pytest.approx(7 / 13)
    assert f1 == pytest.approx(14 / 25)  # 2PR / (P + R) = 2 correct / (gold + found)
    # conlleval's zeros: nothing found, nothing to find
    assert chunk_scores(ChunkCounts(0, 3, 0)) == (0.0, 0.0, 0.0)
    assert chunk_scores(ChunkCounts(0, 0, 0)) == (0.0, 0.0, 0.0)


def test_chunk_counts_need_as_many_predicted_tags_as_gold():
    with pytest.raises(ValueError, match="predicted: expected 2 tags \\(as gold\\), got 1"):
        chunk_counts(["O", "O"], ["O"])
