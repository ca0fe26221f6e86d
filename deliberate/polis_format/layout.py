"""Finding the files of an export in a folder, whatever naming generation wrote them.

Classic exports use plain names; 2025 exports prefix each name with a date, a serial and the
conversation id, and call the matrix ``participant-votes.csv`` instead of
``participants-votes.csv``. Both are mapped to the same roles here, so the parsers never care.
"""

from __future__ import annotations

from pathlib import Path

from deliberate.polis_format.model import PREFIXED_NAME, PolisFormatError

# role -> the classic file names that may hold it
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "comments": ("comments.csv",),
    "votes": ("votes.csv",),
    "participants_votes": ("participants-votes.csv", "participant-votes.csv"),
    "summary": ("summary.csv",),
}


def locate_files(folder: Path) -> dict[str, Path]:
    """Map each role present in ``folder`` to its file; raise when a role is ambiguous or missing.

    comments.csv is required, and so is at least one of votes.csv and the vote matrix: without
    them there is nothing to import. summary.csv is optional.
    """
    if not folder.is_dir():
        raise PolisFormatError(folder, None, "is not a folder holding a Polis export")
    role_of = {name: role for role, names in ROLE_NAMES.items() for name in names}
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        match = PREFIXED_NAME.match(path.name)
        role = role_of.get(match.group("name") if match else path.name)
        if role is not None:
            found.setdefault(role, []).append(path)
    for role, paths in found.items():
        if len(paths) > 1:
            names = ", ".join(path.name for path in paths)
            raise PolisFormatError(folder, None, f"several files could be the {role}: {names}")
    files = {role: paths[0] for role, paths in found.items()}
    if "comments" not in files:
        raise PolisFormatError(
            folder / "comments.csv", None, "required file is missing (no comments.csv here)"
        )
    if "votes" not in files and "participants_votes" not in files:
        raise PolisFormatError(
            folder / "votes.csv",
            None,
            "required file is missing: neither votes.csv nor participants-votes.csv is here",
        )
    return files
