/* Earmark player bar and in-page navigation.
 *
 * The <audio> element lives in the player bar, outside <main>. Links inside the app are followed
 * by fetching the page and swapping <main> (history.pushState), so playback never stops while
 * browsing. pages.js wires up each page after a swap (the "earmark:page" event).
 *
 * Exposes window.Earmark = {api, player, navigate, toast, clock}.
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
      const podcast = await api("GET", "/podcasts/" + ep.podcast_id);
      this.podcastTitle = podcast.ok ? podcast.data.title : "";
      // Stored chapters (the publisher's or generated) when processed; else the feed's own.
      const chapters = await api("GET", `/episodes/${episodeId}/chapters`);
      if (chapters.ok) ep.chapters = chapters.data.chapters;
      this.renderMeta();
      const start = at !== null ? at : (ep.playback.played ? 0 : ep.playback.position);
      audio.src = ep.audio_url;
      audio.playbackRate = currentSpeed();
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
  function setSpeed(rate) {
    audio.playbackRate = rate;
    audio.defaultPlaybackRate = rate;
    localStorage.setItem("earmark.speed", String(rate));
    $("speed").value = String(rate);
  }
  function stepSpeed(direction) {
    const i = SPEEDS.indexOf(currentSpeed());
    const next = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, (i < 0 ? 2 : i) + direction))];
    setSpeed(next);
    toast("Speed " + next + "×");
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
  audio.addEventListener("durationchange", updateTime);
  audio.addEventListener("play", () => {
    $("btn-play").textContent = "⏸"; $("btn-play").setAttribute("aria-label", "Pause");
    $("player").dataset.state = "playing";
  });
  audio.addEventListener("pause", () => {
    $("btn-play").textContent = "▶"; $("btn-play").setAttribute("aria-label", "Play");
    $("player").dataset.state = "paused";
    player.savePosition(true);
  });
  audio.addEventListener("seeked", () => player.savePosition());
  audio.addEventListener("ended", playNext);
  audio.addEventListener("error", () => { if (audio.src) toast("The audio could not be loaded."); });
  setInterval(() => { if (!audio.paused) player.savePosition(); }, SAVE_EVERY_MS);
  // Leaving the page: a last save that survives the unload.
  window.addEventListener("pagehide", () => {
    if (!player.episodeId || !player.restored || player.mode) return;
    fetch(`/api/v1/episodes/${player.episodeId}/position`, {
      method: "PUT", keepalive: true, headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ seconds: audio.currentTime }),
    });
  });

  // -- controls ------------------------------------------------------------------------------

  $("btn-play").addEventListener("click", () => player.toggle());
  $("btn-back").addEventListener("click", () => player.skip(-15));
  $("btn-fwd").addEventListener("click", () => player.skip(30));
  $("btn-chap-prev").addEventListener("click", () => player.chapterPrev());
  $("btn-chap-next").addEventListener("click", () => player.chapterNext());
  $("btn-snip").addEventListener("click", () => player.snip());
  $("seek").addEventListener("change", (e) => player.seek(Number(e.target.value)));
  $("speed").addEventListener("change", (e) => setSpeed(Number(e.target.value)));
  $("sleep").addEventListener("change", (e) => setSleep(e.target.value));

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) && t.type !== "range") return;
    switch (e.key) {
      case " ": if (t && t.tagName === "BUTTON") return; e.preventDefault(); player.toggle(); break;
      case "ArrowLeft": e.preventDefault(); player.skip(-15); break;
      case "ArrowRight": e.preventDefault(); player.skip(30); break;
      case "[": stepSpeed(-1); break;
      case "]": stepSpeed(1); break;
      case "s": case "S": player.snip(); break;
      default: return;
    }
  });

  // Buttons anywhere in the pages: [data-play], [data-enqueue], [data-seek].
  document.addEventListener("click", (e) => {
    const button = e.target.closest("[data-play],[data-enqueue],[data-seek],[data-at]");
    if (!button) return;
    if (button.dataset.at && button.dataset.episode) player.seekEpisode(button.dataset.episode, Number(button.dataset.at));
    else if (button.dataset.play) player.load(button.dataset.play, { play: true });
    else if (button.dataset.enqueue) enqueue(button.dataset.enqueue);
    else if (button.dataset.seek) {
      const page = document.querySelector("[data-episode-id]#episode");
      if (page) player.seekEpisode(page.dataset.episodeId, Number(button.dataset.seek));
    }
  });

  // -- Media Session (lock screen, headphone buttons) ---------------------------------------

  function setupMediaSession() {
    if (!("mediaSession" in navigator)) return;
    const snipAction = document.body.dataset.snipAction || "off";
    const handlers = {
      play: () => player.play(),
      pause: () => audio.pause(),
      seekbackward: (d) => player.skip(-((d && d.seekOffset) || 15)),
      seekforward: (d) => player.skip((d && d.seekOffset) || 30),
      seekto: (d) => player.seek(d.seekTime),
      previoustrack: () => player.chapterPrev(),
      nexttrack: () => player.chapterNext(),
    };
    // The action chosen in the settings (headphone_snip_action) saves a snip instead.
    if (snipAction in handlers) handlers[snipAction] = () => player.snip();
    for (const [action, handler] of Object.entries(handlers)) {
      try { navigator.mediaSession.setActionHandler(action, handler); } catch (_) { /* unsupported action */ }
    }
  }

  // -- navigation: swap <main>, keep the player ---------------------------------------------

  function isAppLink(a, e) {
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return false;
    if (a.target || a.hasAttribute("download") || a.origin !== location.origin) return false;
    return !/^\/(api|static|docs|openapi\.json)(\/|$)/.test(a.pathname) && a.getAttribute("href") !== "#";
  }

  async function navigate(url, { push = true, replace = false } = {}) {
    let response;
    try {
      response = await fetch(url, { headers: { Accept: "text/html" } });
    } catch (err) {
      toast("Cannot reach Earmark.");
      return;
    }
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = doc.getElementById("main");
    if (!fresh) { location.href = url; return; }
    document.dispatchEvent(new CustomEvent("earmark:leave"));
    document.getElementById("main").replaceWith(document.adoptNode(fresh));
    document.title = doc.title;
    if (replace) history.replaceState({}, "", url);
    else if (push) history.pushState({}, "", url);
    if (push && !replace) window.scrollTo(0, 0);
    document.dispatchEvent(new CustomEvent("earmark:page"));
  }

  document.addEventListener("click", (e) => {
    const a = e.target.closest("a[href]");
    if (!isAppLink(a, e)) return;
    e.preventDefault();
    navigate(a.href);
  });
  window.addEventListener("popstate", () => navigate(location.href, { push: false }));

  // -- start ---------------------------------------------------------------------------------

  window.Earmark = { api, player, navigate, toast, clock, errorText, refreshQueueCount };
  setSpeed(currentSpeed());
  setupMediaSession();
  refreshQueueCount();
  const current = localStorage.getItem("earmark.current");
  if (current) player.load(current, { play: false }); // the position comes from the server
})();
    if (!navigator.onLine && window.EarmarkOffline) { // kept for when the connection is back
      window.EarmarkOffline.enqueue("PUT", `/episodes/${player.episodeId}/position`, { seconds: audio.currentTime }, "position:" + player.episodeId);
      return;
    }
