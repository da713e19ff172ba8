"""Team work: assignment, review against gold, agreement, per-article figures."""
