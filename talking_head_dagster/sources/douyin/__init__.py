"""Douyin without yt-dlp: links, the share page's embedded data, and an external resolver's answer."""
