"""`earmark share SNIP_ID`: the share text and links for a snip; with --card a quote card PNG, with
--clip an audio clip (.mp3 or .m4a) of it, downloading the episode first when needed."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from earmark.cli.app import (
    JSON_OPTION,
    app,
    console,
    download_with_bar,
    open_library,
    print_json,
)


@app.command()
def share(
    snip_id: int = typer.Argument(..., help="A snip's ID from `earmark snips`."),
    card: Path | None = typer.Option(None, "--card", help="Write a quote card PNG here.", dir_okay=False),
    clip: Path | None = typer.Option(None, "--clip", help="Write an audio clip here (.mp3 or .m4a).", dir_okay=False),
    square: bool = typer.Option(False, "--square", help="A 1080×1080 card instead of 1200×675."),
    json: bool = JSON_OPTION,
) -> None:
    """Share a snip: text with a timestamp link, Twitter/X and WhatsApp links, a card, a clip."""
    from earmark.share import SIZES, make_clip, save_card, share_text, snip_card
    from earmark.share.clip import clip_format
    from earmark.store.library import OWNER_ID
    from earmark.store.snips import SnipStore

    settings, library = open_library()
    try:
        snip = SnipStore(library, OWNER_ID).get(snip_id)
        episode = library.episode(snip.episode_id)
        podcast = library.podcast(episode.podcast_id) if episode.podcast_id is not None else None
        if clip is not None:
            clip_format(clip)  # a wrong extension fails before any download
        shared = share_text(snip, episode, podcast, base_url=settings.public_base_url)
        result: dict = {
            "snip_id": snip.id,
            "text": shared.text,
            "link": shared.link,
            "episode_link": shared.episode_link,
            "twitter": shared.twitter,
            "whatsapp": shared.whatsapp,
        }
        if card is not None:
            image = snip_card(
                snip, episode, podcast,
                size=SIZES["square" if square else "social"],
                settings=settings,
            )
            result["card"] = str(save_card(image, card))
        if clip is not None:
            record = library.download(episode.id)
            if record is None or not Path(record.path).is_file():
                record = download_with_bar(
                    library, settings, episode.id, label=f"Downloading {episode.title[:40]}", quiet=json
                )
            made = make_clip(
                record.path, clip, snip.start, snip.end,
                title=snip.title or shared.quote[:80] or episode.title,
                artist=(podcast.title if podcast else None) or None,
                album=episode.title or None,
                comment=shared.link,
            )
            result["clip"] = str(made.path)
            result["clip_seconds"] = round(made.duration, 3)
    finally:
        library.close()
    if json:
        print_json(result)
        return
    console.print(escape(shared.text), highlight=False, soft_wrap=True)
    console.print()
    console.print(f"[bold]Twitter/X:[/] {escape(shared.twitter)}", highlight=False, soft_wrap=True)
    console.print(f"[bold]WhatsApp:[/]  {escape(shared.whatsapp)}", highlight=False, soft_wrap=True)
    if "card" in result:
        console.print(f"Card → {escape(result['card'])}", highlight=False, soft_wrap=True)
    if "clip" in result:
        console.print(f"Clip → {escape(result['clip'])} ({result['clip_seconds']:.1f} s)", highlight=False, soft_wrap=True)
