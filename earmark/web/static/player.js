/* Earmark's player: the <audio> element in the player bar, and what plays in it.
 *
 * The <audio> element lives in the player bar, outside <main>, so playback never stops while
 * browsing (navigation.js swaps only <main>). This file holds the small helpers every script uses
 * (api, errorText, clock, toast), the player (load, play, seek, chapters, snip, position saving),
 * the speed, the sleep timer, the queue (up next) and the bar's time display. The rest of the bar
 * loads after it, in this order: effects.js (skip silence, volume boost), listening-history.js
 * (listening reports, time saved), controls.js (buttons, keys, media session; starts the player)
 * and navigation.js (swaps <main>; pages.js wires up each page after a swap, the "earmark:page"
 * event).
 *
 * Exposes window.Earmark = {api, player, toast, clock, errorText, refreshQueueCount}, to which
 * navigation.js adds navigate, and Earmark.bar: the parts those bar scripts share.
 */
(function () {
  "use strict";

  const SAVE_EVERY_MS = 5000; // position saved to the server this often while playing
  const SPEEDS = [0.5, 0.75, 1, 1.1, 1.2, 1.25, 1.5, 1.75, 2, 2.5, 3];

  // -- small helpers -------------------------------------------------------------------------

  /** JSON API call: resolves to {ok, status, data}; never throws for an HTTP error.
   * `queue` (a key): a write that cannot reach the server goes to the offline outbox (pwa.js) and
   * resolves to {ok: true, queued: true}; one with the same key replaces it there. */
  async function api(method, path, body, { queue = null } = {}) {
    const init = { method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const offline = window.EarmarkOffline;
    let response;
    try {
      response = await fetch("/api/v1" + path, init);
    } catch (err) {
      if (queue && offline) { offline.enqueue(method, path, body, queue); return { ok: true, queued: true, status: 0, data: null }; }
      return { ok: false, status: 0, data: { error: { message: "cannot reach Earmark: " + err } } };
    }
    if (queue && offline) {
      if ([502, 503, 504].includes(response.status)) { offline.enqueue(method, path, body, queue); return { ok: true, queued: true, status: 0, data: null }; }
      offline.settled(queue); // newer than anything queued with this key
    }
    let data = null;
    const type = response.headers.get("content-type") || "";
    if (type.includes("json")) data = await response.json();
    return { ok: response.ok, status: response.status, data };
  }

  function errorText(result) {
    return (result.data && result.data.error && result.data.error.message) || "HTTP " + result.status;
  }

  function clock(seconds) {
    if (!isFinite(seconds) || seconds < 0) seconds = 0;
    const t = Math.floor(seconds);
    const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
    const two = (n) => String(n).padStart(2, "0");
    return h ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
  }

  let toastTimer = null;
  function toast(message) {
    const el = document.getElementById("toast");
    el.textContent = message;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
  }

  const $ = (id) => document.getElementById(id);

  // -- the player ----------------------------------------------------------------------------

  const audio = $("audio");
  const player = {
    audio,
    episodeId: null, // the episode loaded in the bar
    episode: null, // its API record (title, chapters, …)
    podcastTitle: "",
    restored: false, // position restored from the server: saving may begin
    lastSaved: -1,
    sleepAt: null, // ms timestamp when the sleep timer pauses playback
    sleepAtEnd: false,
    mode: null, // takes over next/previous, the end and position saving (the highlights reel: reel.js)
    prefs: null, // this user's settings for the podcast in the bar (GET /podcasts/{id}/settings)
    finishing: false, // the outro skip ended the episode: no position save on that pause

    /** Load an episode into the bar; `at` seconds overrides the saved position. */
    async load(episodeId, { play = false, at = null } = {}) {
      episodeId = Number(episodeId);
      if (this.episodeId === episodeId && audio.src) {
        if (at !== null) this.seek(at);
        if (play) this.play();
        return;
      }
      await this.savePosition(true);
      const result = await api("GET", "/episodes/" + episodeId);
      if (!result.ok) { toast("Cannot play: " + errorText(result)); return; }
      const ep = result.data;
      this.episodeId = episodeId;
      this.episode = ep;
      this.restored = false;
      this.lastSaved = -1;
      localStorage.setItem("earmark.current", String(episodeId));
      const [podcast, prefs] = await Promise.all([
        api("GET", "/podcasts/" + ep.podcast_id), api("GET", `/podcasts/${ep.podcast_id}/settings`),
      ]);
      this.podcastTitle = podcast.ok ? podcast.data.title : "";
      this.prefs = prefs.ok ? prefs.data : { ...DEFAULT_PREFS, podcast_id: ep.podcast_id };
      this.finishing = false;
      player.listening.begin(episodeId);
      // Stored chapters (the publisher's or generated) when processed; else the feed's own.
      const chapters = await api("GET", `/episodes/${episodeId}/chapters`);
      if (chapters.ok) ep.chapters = chapters.data.chapters;
      this.renderMeta();
      let start = at !== null ? at : (ep.playback.played ? 0 : ep.playback.position);
      // Intro skip: a start inside the first N seconds starts after them (a chosen moment is kept).
      if (at === null && start < this.prefs.skip_intro) start = this.prefs.skip_intro;
      audio.src = ep.audio_url;
      audio.playbackRate = audio.defaultPlaybackRate = baseSpeed();
      player.fx.configure();
      // currentTime can only be set once the metadata is in.
      const restore = () => {
        if (start > 0) audio.currentTime = start;
        this.restored = true;
        this.lastSaved = start;
        updateTime();
        if (play) this.play();
      };
      audio.addEventListener("loadedmetadata", restore, { once: true });
      audio.load();
      document.dispatchEvent(new CustomEvent("earmark:episode", { detail: { episodeId } }));
    },

    play() {
      if (!audio.src) return;
      const p = audio.play();
      if (p && p.catch) p.catch((err) => toast("Cannot play: " + err.message));
    },
    toggle() {
      if (!audio.src) return;
      audio.paused ? this.play() : audio.pause();
    },
    seek(seconds) {
      if (!audio.src) return;
      const max = isFinite(audio.duration) ? audio.duration : seconds;
      audio.currentTime = Math.max(0, Math.min(max, seconds));
    },
    skip(delta) { this.seek(audio.currentTime + delta); },

    /** Seek within an episode, loading it first when another one is in the bar. */
    async seekEpisode(episodeId, seconds, play = true) {
      if (Number(episodeId) !== this.episodeId) await this.load(episodeId, { at: seconds, play });
      else { this.seek(seconds); if (play) this.play(); }
    },

    async savePosition(force = false) {
      if (!this.episodeId || !this.restored || this.mode) return;
      const t = audio.currentTime;
      if (!force && Math.abs(t - this.lastSaved) < 0.5) return;
      this.lastSaved = t;
      await api("PUT", `/episodes/${this.episodeId}/position`, { seconds: Math.max(0, t) }, { queue: "position:" + this.episodeId });
    },

    chapters() { return (this.episode && this.episode.chapters) || []; },
    chapterPrev() {
      if (this.mode) return this.mode.prev();
      const t = audio.currentTime, list = this.chapters();
      if (!list.length) return this.skip(-15);
      let i = list.findLastIndex((c) => c.start <= t);
      // Within the first 3 s of a chapter, go to the one before; otherwise to this one's start.
      if (i > 0 && t - list[i].start < 3) i -= 1;
      this.seek(i >= 0 ? list[i].start : 0);
    },
    chapterNext() {
      if (this.mode) return this.mode.next();
      const t = audio.currentTime, next = this.chapters().find((c) => c.start > t + 0.5);
      if (next) this.seek(next.start); else if (!this.chapters().length) this.skip(30);
    },

    /** S key, the ✂ button and (if set) a headphone action. */
    async snip() {
      if (!this.episodeId) { toast("Nothing is playing."); return; }
      const position = audio.currentTime;
      // client_id: sent again from the offline outbox, the snip is still made once.
      const key = window.EarmarkOffline ? window.EarmarkOffline.newKey() : null;
      const body = key ? { position, client_id: key } : { position };
      const result = await api("POST", `/episodes/${this.episodeId}/snips`, body, { queue: key && "snip:" + key });
      if (result.queued) toast("Offline: snip kept at " + clock(position) + "; it is saved when Earmark can be reached.");
      else if (result.ok) {
        toast("Snip saved at " + clock(position));
        document.dispatchEvent(new CustomEvent("earmark:snip", { detail: result.data }));
      } else toast("Snip failed: " + errorText(result));
    },

    renderMeta() {
      const ep = this.episode;
      $("player").dataset.state = "loaded";
      const title = $("player-title");
      title.textContent = ep.title;
      title.href = "/episodes/" + ep.id;
      $("player-show").textContent = this.podcastTitle;
      const art = $("player-art");
      // Artwork always from this server (cached, resized; a drawn placeholder when the show has none).
      const artUrl = (size) => `/artwork/episode/${ep.id}?size=${size}`;
      art.src = artUrl(96);
      art.hidden = false;
      $("btn-chap-prev").disabled = $("btn-chap-next").disabled = !this.chapters().length;
      if ("mediaSession" in navigator) {
        navigator.mediaSession.metadata = new MediaMetadata({
          title: ep.title,
          artist: this.podcastTitle,
          album: this.podcastTitle,
          artwork: [96, 300, 600].map((size) => ({ src: new URL(artUrl(size), location.href).href, sizes: `${size}x${size}` })),
        });
      }
    },
  };

  // -- speed ---------------------------------------------------------------------------------

  function currentSpeed() {
    const saved = parseFloat(localStorage.getItem("earmark.speed") || "1");
    return SPEEDS.includes(saved) ? saved : 1;
  }
  /** The podcast's own speed when its settings have one, else the player's. */
  function baseSpeed() {
    const own = player.prefs && player.prefs.speed;
    return own ? own : currentSpeed();
  }
  function setSpeed(rate) {
    audio.playbackRate = rate;
    audio.defaultPlaybackRate = rate;
    // The bar's choice is the player's speed, unless this podcast has its own: then it is that.
    if (player.prefs && player.prefs.speed) {
      player.prefs.speed = rate;
      api("PUT", `/podcasts/${player.prefs.podcast_id}/settings`, prefsBody(player.prefs));
    } else localStorage.setItem("earmark.speed", String(rate));
    $("speed").value = String(rate);
    player.fx.configure();
  }
  function stepSpeed(direction) {
    const i = SPEEDS.indexOf(baseSpeed());
    const next = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, (i < 0 ? 2 : i) + direction))];
    setSpeed(next);
    toast("Speed " + next + "×");
  }

  // -- the podcast's settings for the player (effects.js applies them) -------------------------

  const DEFAULT_PREFS = { speed: null, skip_silence: false, volume_boost: 1, skip_intro: 0, skip_outro: 0, auto_delete: false };

  function prefsBody(p) {
    const { podcast_id, ...body } = p; // eslint-disable-line no-unused-vars
    return body;
  }

  // -- sleep timer ---------------------------------------------------------------------------

  function setSleep(value) {
    player.sleepAtEnd = value === "end";
    player.sleepAt = value && value !== "end" ? Date.now() + Number(value) * 60000 : null;
    updateSleep();
  }
  function updateSleep() {
    const el = $("sleep-left");
    if (player.sleepAt) el.textContent = clock((player.sleepAt - Date.now()) / 1000);
    else el.textContent = player.sleepAtEnd ? "at end" : "";
  }
  setInterval(() => {
    if (player.sleepAt && Date.now() >= player.sleepAt) {
      audio.pause();
      player.sleepAt = null;
      $("sleep").value = "";
      toast("Sleep timer: paused.");
    }
    updateSleep();
  }, 1000);

  // -- the queue -----------------------------------------------------------------------------

  async function refreshQueueCount() {
    const result = await api("GET", "/queue");
    if (result.ok) $("queue-count").textContent = result.data.episode_ids.length || "";
  }
  async function enqueue(episodeId) {
    const result = await api("GET", "/queue");
    if (!result.ok) return toast(errorText(result));
    const ids = result.data.episode_ids;
    if (ids.includes(Number(episodeId))) return toast("Already up next.");
    const put = await api("PUT", "/queue", { episode_ids: [...ids, Number(episodeId)] });
    if (put.ok) { toast("Added to up next."); $("queue-count").textContent = put.data.episode_ids.length; }
    else toast(errorText(put));
  }
  /** At the end of an episode: mark it played and start the next one in the queue. */
  async function playNext() {
    if (player.mode) return player.mode.ended();
    const finished = player.episodeId;
    if (finished) await api("POST", `/episodes/${finished}/played`);
    player.lastSaved = 0;
    if (player.sleepAtEnd) { setSleep(""); $("sleep").value = ""; toast("Sleep timer: stopped at the end."); return; }
    const result = await api("GET", "/queue");
    if (!result.ok) return;
    const ids = result.data.episode_ids.filter((i) => i !== finished);
    if (!ids.length) { await api("PUT", "/queue", { episode_ids: [] }); refreshQueueCount(); return; }
    await api("PUT", "/queue", { episode_ids: ids.slice(1) });
    refreshQueueCount();
    await player.load(ids[0], { play: true, at: 0 });
  }

  // -- time display and saving ---------------------------------------------------------------

  function updateTime() {
    $("time-cur").textContent = clock(audio.currentTime);
    const dur = isFinite(audio.duration) ? audio.duration : (player.episode && player.episode.duration) || 0;
    $("time-dur").textContent = clock(dur);
    const seek = $("seek");
    seek.max = String(Math.floor(dur));
    if (!seek.matches(":active")) seek.value = String(Math.floor(audio.currentTime));
  }
  audio.addEventListener("timeupdate", updateTime);
  // Outro skip: the last N seconds are left out; the episode is finished there.
  audio.addEventListener("timeupdate", () => {
    const outro = player.prefs ? player.prefs.skip_outro : 0;
    const dur = audio.duration;
    if (!outro || player.finishing || audio.paused || !isFinite(dur) || dur - outro <= (player.prefs.skip_intro || 0)) return;
    if (audio.currentTime >= dur - outro) {
      player.finishing = true;
      audio.pause();
      playNext();
    }
  });
  audio.addEventListener("durationchange", updateTime);
  audio.addEventListener("play", () => {
    $("btn-play").textContent = "⏸"; $("btn-play").setAttribute("aria-label", "Pause");
    $("player").dataset.state = "playing";
    player.finishing = false;
    player.fx.resume();
  });
  audio.addEventListener("pause", () => {
    $("btn-play").textContent = "▶"; $("btn-play").setAttribute("aria-label", "Play");
    $("player").dataset.state = "paused";
    if (!player.finishing) player.savePosition(true);
    player.listening.report();
  });
  audio.addEventListener("seeked", () => player.savePosition());
  audio.addEventListener("ended", playNext);
  audio.addEventListener("error", () => { if (audio.src) toast("The audio could not be loaded."); });
  setInterval(() => { if (!audio.paused) player.savePosition(); }, SAVE_EVERY_MS);
  // Leaving the page: a last save that survives the unload.
  window.addEventListener("pagehide", () => {
    player.listening.report({ keepalive: true });
    if (!player.episodeId || !player.restored || player.mode) return;
    if (!navigator.onLine && window.EarmarkOffline) { // kept for when the connection is back
      window.EarmarkOffline.enqueue("PUT", `/episodes/${player.episodeId}/position`, { seconds: audio.currentTime }, "position:" + player.episodeId);
      return;
    }
    fetch(`/api/v1/episodes/${player.episodeId}/position`, {
      method: "PUT", keepalive: true, headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ seconds: audio.currentTime }),
    });
  });

  // -- shared with the rest of the bar (effects.js, listening-history.js, controls.js) -------

  window.Earmark = { api, player, toast, clock, errorText, refreshQueueCount };
  window.Earmark.bar = { DEFAULT_PREFS, prefsBody, currentSpeed, baseSpeed, setSpeed, stepSpeed, setSleep, enqueue };
})();
