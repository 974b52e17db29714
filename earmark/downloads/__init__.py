"""Episode downloads: resumable, verified, and recorded only once complete."""

from earmark.downloads.fetcher import (
    DownloadResult,
    delete_download,
    delete_files,
    download_episode,
    download_many,
    episode_path,
)

__all__ = ["DownloadResult", "delete_download", "delete_files", "download_episode", "download_many", "episode_path"]
