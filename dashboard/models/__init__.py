"""The dashboard's own tables: the bulk jobs that move data out (exports) and in (imports)."""

from .exports import ExportFormat, ExportJob, ExportKind, JobStatus
from .imports import ImportJob, ImportKind, ImportStatus

__all__ = ["ExportFormat", "ExportJob", "ExportKind", "ImportJob", "ImportKind", "ImportStatus", "JobStatus"]
