"""Publisher transcripts and chapters: read every ``podcast:transcript`` format into one
``Transcript`` shape, write it back out, and read JSON chapters."""

from earmark.transcripts.chapters import parse_chapters_json
from earmark.transcripts.formats import rank_transcripts
from earmark.transcripts.podlove import contributor_names
from earmark.transcripts.read import parse_transcript
from earmark.transcripts.wordtimes import attach_words
from earmark.transcripts.write import to_p20_json, to_srt, to_text, to_vtt, write_transcript

__all__ = [
    "attach_words",
    "contributor_names",
    "parse_chapters_json",
    "parse_transcript",
    "rank_transcripts",
    "to_p20_json",
    "to_srt",
    "to_text",
    "to_vtt",
    "write_transcript",
]
