"""tahqiq's data layer: corpus, annotations and label schema in a workspace folder. Never imports textual."""

from .annotations import Annotation, AnnotationSet
from .article import Article
from .errors import CorruptFileError, LockedError, StoreError, UnsavedError, ValidationError
from .labels import EntityLabel, Schema
from .workspace import ImportReport, Workspace, default_path, seeds_path

__all__ = [
    "Annotation", "AnnotationSet", "Article", "CorruptFileError", "EntityLabel", "ImportReport", "LockedError",
    "Schema", "StoreError", "UnsavedError", "ValidationError", "Workspace", "default_path", "seeds_path",
]
