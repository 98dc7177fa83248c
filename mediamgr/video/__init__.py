"""Video and audio features beyond storing the file: what a browser can play (playable), the quality
report (quality), chapter markers from scene changes (chapters) and processing jobs (processing)."""
