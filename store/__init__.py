"""tahqiq's data layer: corpus, annotations and label schema in a workspace folder. Never imports textual."""

from store.annotation.annotation_set import AnnotationSet
from store.annotation.labels import EntityLabel, Schema
from store.annotation.record import Annotation
from store.corpus.article import Article
from store.corpus.intake import ImportReport
from store.errors import CorruptFileError, LockedError, StoreError, UnsavedError, ValidationError
from store.workspace import Workspace, default_path, seeds_path

__all__ = [
    "Annotation", "AnnotationSet", "Article", "CorruptFileError", "EntityLabel", "ImportReport", "LockedError",
    "Schema", "StoreError", "UnsavedError", "ValidationError", "Workspace", "default_path", "seeds_path",
]
