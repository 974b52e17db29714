"""`earmark download EPISODE_ID` (to be filled in)."""
