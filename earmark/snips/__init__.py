"""Snips: a saved moment of an episode. ``create_snip`` stores one at once; the background
enricher (``Enricher``) snaps its bounds to sentences and writes its AI card."""

from earmark.snips.boundaries import Snap, parse_boundary, snap, split_sentences
from earmark.snips.service import create_snip, edit_snip, enrich_snip, resnap_snip

__all__ = ["Snap", "create_snip", "edit_snip", "enrich_snip", "parse_boundary", "resnap_snip", "snap", "split_sentences"]
