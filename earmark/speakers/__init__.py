"""Speakers: diarization (who spoke when), assigning turns to transcript segments, naming."""
