"""CoNLL column files: sentences, column choice, -DOCSTART- lines, and errors that name the file,
line, what was expected and what came."""

import pytest

from rnnkit.data import TaggedSentence, parse_conll, read_conll

from data_helpers import format_error, write

CONLL_2003 = """\
-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER


-DOCSTART- -X- -X- O

BRUSSELS NNP B-NP B-LOC"""  # no blank line at the end: the last sentence still counts


def test_reads_sentences_of_token_and_last_column(tmp_path):
    sentences = read_conll(write(tmp_path, CONLL_2003))
    assert sentences == [
        TaggedSentence(["EU", "rejects", "German"], ["B-ORG", "O", "B-MISC"]),
        TaggedSentence(["Peter", "Blackburn"], ["B-PER", "I-PER"]),
        TaggedSentence(["BRUSSELS"], ["B-LOC"]),
    ]


def test_columns_are_configurable(tmp_path):
    path = write(tmp_path, CONLL_2003)
    pos = read_conll(path, tag_column=1, num_columns=4)
    assert pos[0].tags == ["NNP", "VBZ", "JJ"]
    chunks = read_conll(path, token_column=-1, tag_column=2)
    assert chunks[1] == TaggedSentence(["B-PER", "I-PER"], ["B-NP", "I-NP"])


def test_a_line_with_another_number_of_columns(tmp_path):
    path = write(tmp_path, "a DT B-NP O\nb NN I-NP\n")
    format_error(lambda: read_conll(path), path, "line 2: expected 4 columns (as on line 1)",
                 "got 3: 'b NN I-NP'")
    format_error(lambda: read_conll(path, num_columns=3), path,
                 "line 1: expected 3 columns, got 4")


def test_too_few_columns_for_the_chosen_ones(tmp_path):
    path = write(tmp_path, "\n\nEU B-ORG\n")
    format_error(lambda: read_conll(path, tag_column=3), path,
                 "line 3: expected at least 4 columns (for token_column=0 and tag_column=3)",
                 "got 2: 'EU B-ORG'")
    with pytest.raises(ValueError, match="num_columns: expected at least 4 .* got 2"):
        read_conll(path, tag_column=3, num_columns=2)


def test_unknown_tags_against_a_tag_set(tmp_path):
    path = write(tmp_path, "EU B-ORG\nrejects O\n\nBonn B-CITY\n")
    tags = {"O", "B-ORG", "I-ORG", "B-LOC"}
    assert len(read_conll(write(tmp_path, "EU B-ORG\n", "ok.txt"), tag_set=tags)) == 1
    format_error(lambda: read_conll(path, tag_set=tags), path,
                 "line 4: expected a tag in the tag set (B-LOC, B-ORG, I-ORG, O)",
                 "got 'B-CITY'")


def test_parse_conll_reads_text_and_names_its_source():
    sentences = parse_conll("EU B-ORG\nrejects O\n\nPeter B-PER\n", "<stdin>")
    assert sentences == [TaggedSentence(["EU", "rejects"], ["B-ORG", "O"]),
                         TaggedSentence(["Peter"], ["B-PER"])]
    format_error(lambda: parse_conll("EU B-ORG\nrejects\n", "<stdin>"), "<stdin>",
                 "line 2: expected 2 columns (as on line 1)", "got 1: 'rejects'")
