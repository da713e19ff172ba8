"""One annotator's annotations: the record, the set, undo history, the label schema."""
