"""A repository file read into a `SourceFile`: through the run's sources, so never through a link, never
outside the checkout, never past the size cap. Specs, the project file, policies and evidence records all
come in this way; what is refused is a located finding that quotes nothing of the target.
"""

from __future__ import annotations

from compiler.core import repofs
from compiler.core.diagnostics import Diagnostic
from compiler.core.sources import Sources, unsafe_path_finding
from compiler.stages.read.load import MAX_FILE_BYTES, SourceFile, load_bytes


def load_repo_file(sources: Sources, relative: str, display: str) -> SourceFile:
    """A spec, the project file or a policy, read without following links, inside the checkout, bounded."""
    source = SourceFile(display)
    try:
        raw = sources.read(relative, MAX_FILE_BYTES)
    except repofs.TooLarge:
        message = f"file is larger than the limit of {MAX_FILE_BYTES:,} bytes"
        source.diagnostics.append(Diagnostic.of("CH116", message, display))
        return source
    except repofs.Refused as refused:
        source.diagnostics.append(unsafe_path_finding(refused, display))
        return source
    except OSError as error:
        message = f"cannot read file: {error.strerror}"
        source.diagnostics.append(Diagnostic.of("CH117", message, display))
        return source
    return load_bytes(raw, display)
