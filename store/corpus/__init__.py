"""The corpus: articles, their bodies on disk, reading files to import."""
