"""Labelled parse trees in Penn Treebank brackets, as the Stanford Sentiment Treebank writes them.

Every node carries an integer label, a leaf carries one word, and one tree is one line:

    (3 (2 It) (4 (4 (2 's) (4 great)) (2 .)))

`read_trees(path)` reads a file of them, `parse_tree(text)` one line; `str(tree)` writes the same
form back. `binary_view(trees)` is the SST binary task's labelling.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rnnkit import _check
from rnnkit.data.errors import DataFormatError
from rnnkit.data.files import read_text

SST_LABELS = 5  # 0 very negative, 1 negative, 2 neutral, 3 positive, 4 very positive


@dataclass(frozen=True, slots=True)
class Tree:
    """One node and, through `children`, its subtree.

    A leaf has a `word` and no children; an inner node has children (left to right) and no word.
    `label` is the node's class (SST: sentiment 0..4), or None where a view of the data gives the
    node no label (see `binary_view`).
    """

    label: int | None
    children: tuple[Tree, ...] = ()
    word: str | None = None

    def __post_init__(self):
        if (self.word is None) == (not self.children):
            raise ValueError(f"Tree: expected either a word (a leaf) or children, got word "
                             f"{self.word!r} and {len(self.children)} children")

    @property
    def is_leaf(self) -> bool:
        return self.word is not None

    def postorder(self) -> list[Tree]:
        """Every node, children before their parent and left before right: the order in which a
        tree-structured network can compute them."""
        # A preorder that visits the right child first, reversed, is the left-first postorder.
        reversed_order, stack = [], [self]
        while stack:
            node = stack.pop()
            reversed_order.append(node)
            stack.extend(node.children)
        return reversed_order[::-1]

    def leaves(self) -> list[Tree]:
        """The leaves, left to right."""
        return [node for node in self.postorder() if node.is_leaf]

    def words(self) -> list[str]:
        """The sentence: the leaves' words, left to right."""
        return [leaf.word for leaf in self.leaves()]

    def height(self) -> int:
        """Edges on the longest path from this node down to a leaf (a leaf has height 0)."""
        return 1 + max((child.height() for child in self.children), default=-1)

    def is_binary(self) -> bool:
        """Whether every inner node has exactly two children (SST trees are binarised)."""
        return all(node.is_leaf or len(node.children) == 2 for node in self.postorder())

    def map_labels(self, relabel: Callable[[int | None], int | None]) -> Tree:
        """The same tree with `relabel(label)` at every node."""
        if self.is_leaf:
            return Tree(relabel(self.label), word=self.word)
        return Tree(relabel(self.label), tuple(c.map_labels(relabel) for c in self.children))

    def __str__(self) -> str:
        """The bracketed form that `parse_tree` reads."""
        inside = self.word if self.is_leaf else " ".join(map(str, self.children))
        return f"({self.label} {inside})"


def binary_label(label: int) -> int | None:
    """SST's binary task: 0 for negative (0, 1), 1 for positive (3, 4), None for neutral (2)."""
    return None if label == 2 else int(label > 2)


def binary_view(trees: Iterable[Tree]) -> list[Tree]:
    """The trees whose root is not neutral, every node relabelled by `binary_label` (neutral
    inner nodes get None: no target there). On SST test this keeps 1821 of 2210 sentences."""
    return [tree.map_labels(binary_label) for tree in trees if binary_label(tree.label) is not None]


def read_trees(path, *, num_labels: int = SST_LABELS, encoding: str = "utf-8") -> list[Tree]:
    """One tree per non-blank line of a text file; labels must be integers in [0, num_labels).
    A malformed line raises DataFormatError naming the file, line and column."""
    _check.positive_int("num_labels", num_labels)
    lines = read_text(path, encoding).split("\n")
    return [parse_tree(line, num_labels=num_labels, source=path, line=number)
            for number, line in enumerate(lines, start=1) if _TOKEN.search(line)]


def parse_tree(text: str, *, num_labels: int = SST_LABELS, source="<string>",
               line: int = 1) -> Tree:
    """The tree written in `text` (one tree, nothing after it). `source` and `line` only say
    where `text` came from, for error messages."""
    _check.positive_int("num_labels", num_labels)
    tokens = _Tokens(text, source, line)
    open_nodes = []  # (label, children so far, index of its "(") for each node not yet closed
    while True:
        opened = tokens.expect_open()
        label = tokens.label(num_labels)
        if tokens.peek() == "(":
            open_nodes.append((label, [], opened))
            continue
        node = Tree(label, word=tokens.word())
        tokens.expect_close(opened)
        # Close every node that ends right after this one; stop at the next sibling's "(".
        while open_nodes:
            open_nodes[-1][1].append(node)
            if tokens.peek() != ")":
                break
            tokens.take()
            label, children, _ = open_nodes.pop()
            node = Tree(label, tuple(children))
        else:  # no open node is left: `node` is the root
            tokens.expect_end()
            return node
        if tokens.peek() != "(":
            raise tokens.error(f"'(' opening another child or ')' closing the node opened at "
                               f"column {tokens.column(open_nodes[-1][2])}")


# Tokens are separated by ASCII whitespace only: other space belongs to the word (SST writes the
# film "8 1/2" as the one word "8\xa01\\/2", with a no-break space, and keeps PTB escapes).
_TOKEN = re.compile(r"\(|\)|[^\s()]+", re.ASCII)


class _Tokens:
    """The brackets and words of one line, read left to right. A token's column is found only
    when an error message needs it (SST has 400,000 tokens; errors are rare)."""

    def __init__(self, text: str, source, line: int):
        self._text, self._source, self._line = text, source, line
        self._tokens = _TOKEN.findall(text)
        self._tokens.append(None)  # the end of the line: what peek() gives after the last token
        self._next = 0

    def peek(self) -> str | None:
        """The next token, or None at the end of the line."""
        return self._tokens[self._next]

    def take(self) -> str:
        self._next += 1
        return self._tokens[self._next - 1]

    def column(self, index: int) -> int:
        """The 1-based column of token `index` (of the end of the line, past the last token)."""
        matches = list(_TOKEN.finditer(self._text))
        if index < len(matches):
            return matches[index].start() + 1
        return matches[-1].end() + 1 if matches else 1

    def error(self, expected: str) -> DataFormatError:
        """An error at the next token: `expected` was wanted there."""
        token = self.peek()
        got = "the end of the line" if token is None else repr(token)
        where = f"line {self._line}, column {self.column(self._next)}"
        return DataFormatError(self._source, where, expected, got)

    def expect_open(self) -> int:
        """Take a "("; its index, for messages about the node it opens."""
        if self.peek() != "(":
            raise self.error("'(' opening a node")
        self.take()
        return self._next - 1

    def expect_close(self, opened: int) -> None:
        if self.peek() != ")":
            raise self.error(f"')' closing the leaf opened at column {self.column(opened)}")
        self.take()

    def label(self, num_labels: int) -> int:
        token = self.peek()
        # isascii: str.isdigit alone accepts digits such as "²" that int() rejects
        if token is None or not (token.isascii() and token.isdigit()) or int(token) >= num_labels:
            raise self.error(f"an integer label in 0..{num_labels - 1}")
        self.take()
        return int(token)

    def word(self) -> str:
        token = self.peek()
        if token is None or token in ("(", ")"):
            raise self.error("a word or '(' after the label")
        return self.take()

    def expect_end(self) -> None:
        if self.peek() is not None:
            raise self.error("the end of the line after the tree")
