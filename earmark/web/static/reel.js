/* Earmark highlights reel: the highlights of the library (or of one podcast, or of this week's
 * episodes) played back to back in the player bar — each clip from its start to its end, a short
 * gap, then the next.
 *
 * The clips are the episodes' own audio (GET /api/v1/episodes/{id}/audio: the download with Range,
 * else the publisher's address), seeked to the start and stopped at the end: nothing is re-encoded.
 * While the reel plays it holds the player (player.mode): next/previous (buttons, Shift+N / Shift+P,
 * headphone and lock-screen buttons) move between highlights, the end of a clip moves on, and the
 * episodes' saved positions are left alone. "Continue the full episode" (Shift+F) hands the player
 * back, playing on from the moment. Where the reel was is kept in localStorage: "Resume highlights".
 *
 * Exposes window.EarmarkReel.
 */
(function () {
  "use strict";

  const E = window.Earmark; // player.js runs first (deferred scripts run in order)
  if (!E) return;
  const { api, player, toast, clock } = E;
  const audio = player.audio;
  const STORE = "earmark.reel";
  const GAP_MS = 1200; // silence between two clips
  const PAGE = 200; // the API's largest page
  const MAX_ITEMS = 2000;
  const $ = (id) => document.getElementById(id);

  const reel = {
    items: [], // LibraryHighlightOut records, in play order
    index: 0,
    scope: {}, // {podcast_id?, since?}
    label: "Highlights",
    active: false, // the reel holds the player
    ready: false, // the current clip is loaded and seeked: its end may be watched
    inGap: false,
    gapTimer: null,
    target: null, // the index asked for while a load is under way
    loading: false,

    current() { return this.items[this.index] || null; },

    /** Start the reel for `scope`, at the highlight `fromId` (else the first). */
    async start(scope = {}, { fromId = null, label = null } = {}) {
      const items = await fetchAll(scope);
      if (items === null) return;
      if (!items.length) { toast("No highlights to play yet: they appear when episodes are processed."); return; }
      const from = fromId !== null ? Math.max(0, items.findIndex((h) => h.id === Number(fromId))) : 0;
      this.items = items;
      this.scope = scope;
      this.label = label || scopeLabel(scope, items);
      await this.take();
      this.go(from, 0);
    },

    /** Resume the saved reel where it was left (the clip, and the moment in it). */
    async resume() {
      const saved = load();
      if (!saved) { toast("No highlights reel to resume."); return; }
      this.items = saved.items;
      this.scope = saved.scope || {};
      this.label = saved.label || "Highlights";
      await this.take();
      this.go(Math.min(saved.index, this.items.length - 1), saved.offset || 0);
    },

    /** Hold the player: save where the episode in the bar was first (the reel never moves it). */
    async take() {
      if (!this.active) await player.savePosition(true);
      this.active = true;
      player.mode = reelMode;
      document.body.classList.add("reel-on");
      setMediaButtons(true);
      renderBar();
    },

    /** Play the highlight at index `i`, `offset` seconds in. Rapid presses coalesce: the last wins. */
    async go(i, offset = 0) {
      clearTimeout(this.gapTimer);
      this.inGap = false;
      this.ready = false;
      this.target = { i: Math.max(0, Math.min(this.items.length - 1, i)), offset };
      if (this.loading) return;
      this.loading = true;
      try {
        while (this.target) {
          const { i: index, offset: into } = this.target;
          this.target = null;
          this.index = index;
          const h = this.current();
          renderBar();
          await player.load(h.episode_id, { play: true, at: h.start + into });
          if (!this.active) return;
          if (player.episodeId !== h.episode_id) { // could not be loaded (deleted?): on to the next
            if (!this.target && index + 1 < this.items.length) this.target = { i: index + 1, offset: 0 };
            continue;
          }
          if (!this.target) {
            renderMeta(h);
            markPlaying();
            save();
            document.dispatchEvent(new CustomEvent("earmark:reel", { detail: { index, highlight: h } }));
          }
        }
      } finally {
        this.loading = false;
      }
    },

    next() {
      if (!this.active) return;
      if (this.index + 1 >= this.items.length) { toast("That was the last highlight."); return; }
      this.go(this.index + 1);
    },
    prev() {
      if (!this.active) return;
      const h = this.current();
      // A few seconds into a clip, "previous" starts it again (as a track list does).
      if (h && this.ready && audio.currentTime - h.start > 3) this.go(this.index);
      else if (this.index > 0) this.go(this.index - 1);
      else this.go(0);
    },

    /** The clip reached its end: a short gap, then the next (or the end of the reel). */
    clipEnded() {
      if (!this.active || this.inGap) return;
      this.inGap = true;
      this.ready = false;
      audio.pause();
      const last = this.index + 1 >= this.items.length;
      renderBar(last ? "End of the highlights." : "Next: " + this.items[this.index + 1].title);
      this.gapTimer = setTimeout(() => {
        if (!this.active) return;
        if (last) this.finish();
        else this.go(this.index + 1);
      }, GAP_MS);
    },

    /** Keep playing this episode from the moment: the player is the player again. */
    continueEpisode() {
      if (!this.active) return;
      const wasGap = this.inGap;
      const next = this.index + 1;
      this.release();
      // Resuming the reel later goes on with the next highlight.
      if (next < this.items.length) save({ index: next, offset: 0 }); else forget();
      toast("Playing the full episode.");
      if (wasGap || audio.paused) player.play();
    },

    /** The listener went elsewhere (another episode, another moment): the reel lets go, and
     * "Resume highlights" comes back to this clip. */
    leave() {
      if (!this.active) return;
      save({ offset: 0 });
      this.release();
    },

    /** Stop the reel (the ✕): pause; "Resume highlights" comes back to this moment. */
    stop() {
      if (!this.active) return;
      save();
      audio.pause();
      this.release();
    },

    finish() {
      forget();
      this.release();
      toast("That was every highlight.");
    },

    release() {
      clearTimeout(this.gapTimer);
      this.active = this.inGap = this.ready = false;
      this.target = null;
      if (player.mode === reelMode) player.mode = null;
      document.body.classList.remove("reel-on");
      setMediaButtons(false);
      if (player.episode) {
        if (audio.paused) holdPosition(); // stopped, or the reel's end: the bar is at a highlight
        else { player.restored = true; player.lastSaved = -1; } // played on: saved again from here
        player.renderMeta();
      }
      renderBar();
      renderPage();
      markPlaying();
    },
  };

  /** The bar is left paused at a highlight's moment, not where the listener is in the episode: no
   * position is saved from it (the pause event still on its way, a reload, another episode) until
   * the listener plays on from there. */
  function holdPosition() {
    const episodeId = player.episodeId;
    player.restored = false;
    audio.addEventListener("play", () => {
      if (player.episodeId === episodeId && !player.mode) { player.restored = true; player.lastSaved = -1; }
    }, { once: true });
  }

  /** What player.js asks of the mode that holds it. */
  const reelMode = {
    next: () => reel.next(),
    prev: () => reel.prev(),
    ended: () => reel.clipEnded(),
  };

  // -- fetching and keeping -------------------------------------------------------------------

  async function fetchAll(scope) {
    const items = [];
    for (let offset = 0; offset < MAX_ITEMS; offset += PAGE) {
      const query = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
      if (scope.podcast_id) query.set("podcast_id", String(scope.podcast_id));
      if (scope.since) query.set("since", scope.since);
      const result = await api("GET", "/highlights?" + query);
      if (!result.ok) { toast("Cannot load the highlights: " + E.errorText(result)); return null; }
      items.push(...result.data.items);
      if (!result.data.has_more) break;
    }
    return items;
  }

  function scopeLabel(scope, items) {
    if (scope.podcast_id && items.length) return "Highlights · " + items[0].podcast_title;
    return scope.since ? "This week's highlights" : "Highlights";
  }

  function save(override = {}) {
    const h = reel.current();
    if (!h) return;
    const offset = reel.ready ? Math.max(0, Math.min(h.end - h.start, audio.currentTime - h.start)) : 0;
    const state = { items: reel.items, scope: reel.scope, label: reel.label, index: reel.index, offset, savedAt: Date.now(), ...override };
    try { localStorage.setItem(STORE, JSON.stringify(state)); } catch (_) { /* storage full or off: nothing to resume */ }
  }
  function load() {
    try {
      const state = JSON.parse(localStorage.getItem(STORE) || "null");
      return state && Array.isArray(state.items) && state.items.length && state.index < state.items.length ? state : null;
    } catch (_) { return null; }
  }
  function forget() { localStorage.removeItem(STORE); }

  // -- watching the clip's end ----------------------------------------------------------------

  function watch() {
    if (!reel.active || reel.inGap || reel.loading) return;
    const h = reel.current();
    if (!h || player.episodeId !== h.episode_id) return;
    const t = audio.currentTime;
    if (!reel.ready) {
      // Until the seek to the clip has happened, the old position must not end the new clip.
      if (t >= h.start - 0.5 && t < h.end) reel.ready = true;
      else return;
    }
    if (t < h.start - 0.75 || t > h.end + 1.5) return reel.leave(); // sought elsewhere in the episode (±15/30, a line)
    if (t >= h.end - 0.05) reel.clipEnded();
    renderClock();
  }
  audio.addEventListener("timeupdate", watch);
  setInterval(() => { if (reel.active && !audio.paused) watch(); }, 100); // timeupdate comes only every ~250 ms
  setInterval(() => { if (reel.active && reel.ready && !audio.paused) save(); }, 2000);
  window.addEventListener("pagehide", () => { if (reel.active) save(); });
  // Play pressed during the gap: go straight on to the next clip.
  audio.addEventListener("play", () => { if (reel.active && reel.inGap) reel.go(reel.index + 1); });

  // -- the player bar -------------------------------------------------------------------------

  function bar() {
    let el = $("reel-bar");
    if (el) return el;
    el = document.createElement("div");
    el.id = "reel-bar";
    el.className = "reel-bar";
    el.hidden = true;
    el.setAttribute("role", "group");
    el.setAttribute("aria-label", "Highlights reel");
    el.innerHTML =
      '<span class="reel-label"><strong id="reel-count"></strong> <span id="reel-status" class="muted"></span></span>' +
      '<span id="reel-clock" class="time muted"></span>' +
      '<span class="reel-buttons">' +
      '<button type="button" id="reel-prev" title="Previous highlight (Shift+P)" aria-label="Previous highlight">« Prev</button>' +
      '<button type="button" id="reel-next" title="Next highlight (Shift+N)" aria-label="Next highlight">Next »</button>' +
      '<button type="button" id="reel-continue" class="reel-continue" title="Continue the full episode (Shift+F)">Continue the full episode</button>' +
      '<button type="button" id="reel-stop" title="Stop the highlights reel" aria-label="Stop the highlights reel">✕</button>' +
      "</span>";
    $("player").prepend(el);
    $("reel-prev").addEventListener("click", () => reel.prev());
    $("reel-next").addEventListener("click", () => reel.next());
    $("reel-continue").addEventListener("click", () => reel.continueEpisode());
    $("reel-stop").addEventListener("click", () => reel.stop());
    return el;
  }

  function renderBar(status = "") {
    const el = bar();
    el.hidden = !reel.active;
    $("player").dataset.reel = reel.active ? "on" : "off";
    if (!reel.active) return;
    const h = reel.current();
    $("reel-count").textContent = `${reel.label} · ${reel.index + 1} of ${reel.items.length}`;
    $("reel-status").textContent = status;
    $("reel-prev").disabled = reel.index === 0 && !(h && audio.currentTime - h.start > 3);
    $("reel-next").disabled = reel.index + 1 >= reel.items.length;
    renderClock();
    // The chapter buttons move between highlights too while the reel plays (player.mode).
    for (const id of ["btn-chap-prev", "btn-chap-next"]) { const b = $(id); if (b) b.disabled = false; }
  }

  function renderClock() {
    const h = reel.current();
    if (!h || !reel.active) return;
    const into = reel.ready ? Math.max(0, audio.currentTime - h.start) : 0;
    $("reel-clock").textContent = `${clock(Math.min(into, h.end - h.start))} / ${clock(h.end - h.start)}`;
  }

  /** The bar shows the clip: its title, then episode · podcast; the lock screen the same. */
  function renderMeta(h) {
    const title = $("player-title");
    title.textContent = h.title;
    title.href = `/episodes/${h.episode_id}`;
    title.title = h.why || h.title;
    $("player-show").textContent = `${h.episode_title} · ${h.podcast_title}`;
    renderBar();
    if ("mediaSession" in navigator && window.MediaMetadata) {
      const art = (size) => new URL(`/artwork/episode/${h.episode_id}?size=${size}`, location.href).href;
      navigator.mediaSession.metadata = new MediaMetadata({
        title: h.title, artist: h.podcast_title, album: h.episode_title,
        artwork: [96, 300, 600].map((size) => ({ src: art(size), sizes: `${size}x${size}` })),
      });
    }
  }

  /** Headphone / lock-screen next and previous: highlights while the reel plays; afterwards what
   * controls.js set (chapters, or a snip when that is the headphone action). */
  function setMediaButtons(on) {
    if (!("mediaSession" in navigator)) return;
    const snipAction = document.body.dataset.snipAction || "off";
    const set = (action, handler) => { try { navigator.mediaSession.setActionHandler(action, handler); } catch (_) { /* unsupported */ } };
    set("nexttrack", on ? () => reel.next() : (snipAction === "nexttrack" ? () => player.snip() : () => player.chapterNext()));
    set("previoustrack", on ? () => reel.prev() : (snipAction === "previoustrack" ? () => player.snip() : () => player.chapterPrev()));
  }

  // -- keyboard -------------------------------------------------------------------------------

  document.addEventListener("keydown", (e) => {
    if (!reel.active || e.ctrlKey || e.metaKey || e.altKey || !e.shiftKey) return;
    const t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) && t.type !== "range") return;
    const action = { N: () => reel.next(), P: () => reel.prev(), F: () => reel.continueEpisode() }[e.key.toUpperCase()];
    if (!action) return;
    e.preventDefault();
    action();
  });

  // -- the pages: Highlights (scope, play, resume, play from an item) and a podcast's page ---------

  function pageScope() {
    const root = $("reel-controls");
    if (!root) return null;
    const scope = {};
    if (root.dataset.podcastId) scope.podcast_id = Number(root.dataset.podcastId);
    if (root.dataset.since) scope.since = root.dataset.since;
    return scope;
  }

  function renderPage() {
    const resume = $("reel-resume");
    if (!resume) return;
    const saved = load();
    resume.hidden = !saved || reel.active;
    if (saved) {
      const h = saved.items[saved.index];
      resume.textContent = `↻ Resume ${saved.label || "highlights"} · ${saved.index + 1} of ${saved.items.length}`;
      resume.title = `Go on with “${h.title}”` + (saved.offset ? ` at ${clock(saved.offset)}` : "");
    }
  }

  /** On the Highlights page, the highlight playing now stands out. */
  function markPlaying() {
    const h = reel.active ? reel.current() : null;
    for (const el of document.querySelectorAll(".library-highlights .highlight")) {
      el.classList.toggle("playing", !!h && el.dataset.highlightId === String(h.id));
    }
  }

  async function setupPage() {
    renderPage();
    markPlaying();
    const podcastButton = document.querySelector("[data-reel-podcast]");
    if (podcastButton) {
      // Shown only when the podcast has highlights: no button that does nothing.
      const result = await api("GET", `/highlights?limit=1&podcast_id=${podcastButton.dataset.reelPodcast}`);
      podcastButton.hidden = !(result.ok && result.data.items.length);
    }
  }

  document.addEventListener("click", (e) => {
    const el = e.target.closest("#reel-play,#reel-resume,[data-reel-from],[data-reel-podcast]");
    if (!el) return;
    e.preventDefault();
    if (el.id === "reel-resume") reel.resume();
    else if (el.dataset.reelPodcast) reel.start({ podcast_id: Number(el.dataset.reelPodcast) });
    else reel.start(pageScope() || {}, { fromId: el.dataset.reelFrom ? Number(el.dataset.reelFrom) : null });
  });
  document.addEventListener("change", (e) => {
    if (e.target.id !== "reel-podcast") return;
    const id = e.target.value;
    E.navigate(id ? `/highlights?podcast_id=${encodeURIComponent(id)}` : "/highlights");
  });
  document.addEventListener("earmark:page", setupPage);
  // Another episode loaded by the listener (not by the reel): the player is theirs again.
  document.addEventListener("earmark:episode", () => { if (reel.active && !reel.loading) reel.leave(); });

  window.EarmarkReel = reel;
  bar();
  setupPage();
})();
