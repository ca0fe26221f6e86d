"""Read and write Polis export folders (pol.is conversation data), in pure Python.

``read_export`` accepts every export generation seen in the wild (classic, with xid, 2024
comments, 2025 prefixed names) and gives plain frozen values; ``write_export`` writes the classic
layout back so that reading it again gives the same comments, final votes and participants.
No Flask, database or numpy here: importers, publishers and notebooks all share this code.
"""

from deliberate.polis_format.layout import locate_files
from deliberate.polis_format.model import (
    PolisComment,
    PolisExport,
    PolisFormatError,
    PolisParticipant,
    PolisVote,
    latest_votes,
)
from deliberate.polis_format.reader import read_export
from deliberate.polis_format.writer import (
    TEXT_COLUMNS,
    final_tallies,
    summary_rows,
    write_comments_csv,
    write_export,
    write_participants_votes_csv,
    write_summary_csv,
    write_votes_csv,
)

__all__ = [
    "TEXT_COLUMNS",
    "PolisComment",
    "PolisExport",
    "PolisFormatError",
    "PolisParticipant",
    "PolisVote",
    "final_tallies",
    "latest_votes",
    "locate_files",
    "read_export",
    "summary_rows",
    "write_comments_csv",
    "write_export",
    "write_participants_votes_csv",
    "write_summary_csv",
    "write_votes_csv",
]
