"""Sync with the podcast apps people already use: the gpodder.net API v2 (AntennaPod, gPodder,
Kasts…) and Nextcloud's gpoddersync API, on Earmark's accounts. The web routes are in
earmark/web/sync_api.py; the state in earmark/store/sync.py."""
