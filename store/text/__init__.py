"""Arabic text rules: normalisation and words, sentences, paragraph direction."""
