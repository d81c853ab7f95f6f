"""Data: readers for the real data sets (SST trees, CoNLL columns, JSB Chorales, plain text),
vocabularies, batching, and generated tasks. Readers raise DataFormatError, naming the file and
the position in it, for input they cannot read."""

from rnnkit.data.batching import (BucketBatchSampler, PaddedBatch, bptt_chunks, pad_sequences,
                                  parallel_streams)
from rnnkit.data.conll import TaggedSentence, parse_conll, read_conll
from rnnkit.data.errors import DataFormatError
from rnnkit.data.files import read_json, read_text
from rnnkit.data.jsb import NUM_KEYS, piano_roll, read_jsb
from rnnkit.data.synthetic import adding_problem, copy_task
from rnnkit.data.tag_schemes import (SCHEMES, ChunkCounts, Entity, chunk_counts, chunk_scores,
                                     convert, entities)
from rnnkit.data.text import char_tokens, split_by_fraction, word_tokens
from rnnkit.data.trees import Tree, binary_label, binary_view, parse_tree, read_trees
from rnnkit.data.vocab import Vocab

__all__ = ["DataFormatError", "read_text", "read_json",
           "Tree", "parse_tree", "read_trees", "binary_label", "binary_view",
           "char_tokens", "word_tokens", "split_by_fraction",
           "read_jsb", "piano_roll", "NUM_KEYS",
           "TaggedSentence", "read_conll", "parse_conll", "Entity", "entities", "convert",
           "SCHEMES", "ChunkCounts", "chunk_counts", "chunk_scores",
           "Vocab",
           "PaddedBatch", "pad_sequences", "BucketBatchSampler", "parallel_streams",
           "bptt_chunks",
           "adding_problem", "copy_task"]
