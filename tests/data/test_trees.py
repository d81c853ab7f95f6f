"""Penn Treebank trees with a label on every node (SST): reading, the Tree helpers, and an error
for each way a line can be malformed."""

import pytest

from rnnkit.data import Tree, binary_label, binary_view, parse_tree, read_trees

from data_helpers import format_error, write

SENTENCE = "(3 (2 It) (4 (4 (2 's) (4 great)) (2 .)))"


def test_parse_builds_the_tree():
    tree = parse_tree(SENTENCE)
    assert tree.label == 3 and not tree.is_leaf
    it, rest = tree.children
    assert it == Tree(2, word="It")
    assert rest.children[0] == Tree(4, (Tree(2, word="'s"), Tree(4, word="great")))


def test_helpers():
    tree = parse_tree(SENTENCE)
    assert tree.words() == ["It", "'s", "great", "."]
    assert [leaf.label for leaf in tree.leaves()] == [2, 2, 4, 2]
    # children before parents, left before right
    assert [node.word or node.label for node in tree.postorder()] == [
        "It", "'s", "great", 4, ".", 4, 3]
    assert tree.height() == 3 and Tree(1, word="a").height() == 0
    assert tree.is_binary()
    assert not parse_tree("(1 (2 a) (2 b) (2 c))").is_binary()


@pytest.mark.parametrize("text", [SENTENCE, "(0 lone)", "(1 (2 a) (2 b) (2 c))",
                                  "(2 (2 8\xa01\\/2) (2 -LRB-))"])
def test_str_writes_what_parse_reads(text):
    tree = parse_tree(text)
    assert str(tree) == text
    assert parse_tree(str(tree)) == tree


def test_a_word_keeps_non_ascii_space_and_ptb_escapes():
    # SST writes the film "8 1/2" with a no-break space inside one word
    assert parse_tree("(2 8\xa01\\/2)").word == "8\xa01\\/2"


def test_a_node_has_either_a_word_or_children():
    with pytest.raises(ValueError, match="either a word"):
        Tree(2)
    with pytest.raises(ValueError, match="either a word"):
        Tree(2, (Tree(1, word="a"),), word="b")


def test_read_trees_skips_blank_lines(tmp_path):
    path = write(tmp_path, f"{SENTENCE}\n\n(1 (1 bad) (2 film))\n")
    trees = read_trees(path)
    assert [t.words() for t in trees] == [["It", "'s", "great", "."], ["bad", "film"]]


def test_num_labels_sets_the_label_range(tmp_path):
    path = write(tmp_path, "(6 (1 a) (0 b))\n")
    assert read_trees(path, num_labels=7)[0].label == 6
    format_error(lambda: read_trees(path), path, "line 1, column 2",
                 "expected an integer label in 0..4", "got '6'")


@pytest.mark.parametrize("line, column, expected, got", [
    ("(3 (2 a) (2 b)", 15, "'(' opening another child or ')' closing the node opened at column 1",
     "the end of the line"),
    ("(3 (2 a) (2 b)))", 16, "the end of the line after the tree", "')'"),
    ("((2 a) (2 b))", 2, "an integer label in 0..4", "'('"),
    ("(3 (x a) (2 b))", 5, "an integer label in 0..4", "'x'"),
    ("(3 (2.5 a) (2 b))", 5, "an integer label in 0..4", "'2.5'"),
    ("(3 (2 a) (9 b))", 11, "an integer label in 0..4", "'9'"),
    ("(3 (2 ) (2 b))", 7, "a word or '(' after the label", "')'"),
    ("(3 (2 a) (2 b)) (2 c)", 17, "the end of the line after the tree", "'('"),
    ("(3 (2 a b) (2 c))", 9, "')' closing the leaf opened at column 4", "'b'"),
    ("(3 (2 a) b)", 10, "'(' opening another child or ')' closing the node opened at column 1",
     "'b'"),
    ("3 (2 a)", 1, "'(' opening a node", "'3'"),
])
def test_malformed_lines_name_file_line_column_expected_and_got(tmp_path, line, column,
                                                                 expected, got):
    path = write(tmp_path, f"{SENTENCE}\n{line}\n")
    format_error(lambda: read_trees(path), path, f"line 2, column {column}",
                 f"expected {expected}", f"got {got}")


def test_binary_view_drops_neutral_roots_and_relabels_every_node():
    trees = [parse_tree("(4 (3 good) (2 film))"), parse_tree("(2 (2 a) (2 film))"),
             parse_tree("(1 (0 awful) (3 fun))")]
    assert [binary_label(label) for label in range(5)] == [0, 0, None, 1, 1]
    view = binary_view(trees)
    assert [str(t) for t in view] == ["(1 (1 good) (None film))", "(0 (0 awful) (1 fun))"]
