"""Corpus search: the query and the folded index it runs on."""
