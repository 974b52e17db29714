"""Snips: a saved moment of an episode. ``create_snip`` stores one at once; the background
enricher (``Enricher``) snaps its bounds to sentences and writes its AI card."""

from earmark.snips.boundaries import Snap, parse_boundary, snap, split_sentences

_SERVICE = ("create_snip", "edit_snip", "enrich_snip", "resnap_snip")


def __getattr__(name: str):
    # The service is loaded on first use, not with the package: the job runner's snip stages
    # (earmark/jobs/snip_stages.py) import boundaries from here, and the service imports them.
    if name in _SERVICE:
        from earmark.snips import service

        return getattr(service, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Snap", "create_snip", "edit_snip", "enrich_snip", "parse_boundary", "resnap_snip", "snap", "split_sentences"]
