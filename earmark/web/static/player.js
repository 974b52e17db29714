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
      listening.begin(episodeId);
      // Stored chapters (the publisher's or generated) when processed; else the feed's own.
      const chapters = await api("GET", `/episodes/${episodeId}/chapters`);
      if (chapters.ok) ep.chapters = chapters.data.chapters;
      this.renderMeta();
      let start = at !== null ? at : (ep.playback.played ? 0 : ep.playback.position);
      // Intro skip: a start inside the first N seconds starts after them (a chosen moment is kept).
      if (at === null && start < this.prefs.skip_intro) start = this.prefs.skip_intro;
      audio.src = ep.audio_url;
      audio.playbackRate = audio.defaultPlaybackRate = baseSpeed();
      fx.configure();
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
    fx.configure();
  }
  function stepSpeed(direction) {
    const i = SPEEDS.indexOf(baseSpeed());
    const next = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, (i < 0 ? 2 : i) + direction))];
    setSpeed(next);
    toast("Speed " + next + "×");
  }


  // -- listening effects: skip silence and volume boost (Web Audio) ---------------------------
  //
  // The element's sound is read through captureStream(), never createMediaElementSource(): that
  // one reroutes the element for good, and audio streamed from another site (an episode not
  // downloaded is a redirect to the publisher) then plays as silence, since without CORS the page
  // may not read it. A capture leaves the element as it is; the effects are used only for audio
  // this server serves (a download or an upload) and switched off, element unmuted, otherwise.
  // Skip silence plays silent stretches fast (Overcast's way): the level is read every 20 ms, and
  // after SILENCE_MIN_MS below SILENCE_LEVEL the rate goes up until sound returns. Volume boost
  // mutes the element (a capture is not muted with it) and plays the capture through a gain and
  // a limiter (a compressor at -1 dBFS, ratio 20), so a boosted show never clips.

  const DEFAULT_PREFS = { speed: null, skip_silence: false, volume_boost: 1, skip_intro: 0, skip_outro: 0, auto_delete: false };
  const SILENCE_LEVEL = 0.01; // RMS of full scale (-40 dBFS): Pocket Casts trims below 250/32768
  const SILENCE_MIN_MS = 250; // shorter pauses are part of speech and are kept
  const SILENCE_RATE = 4; // × the listener's speed over silence (Chrome plays up to 16×)

  function prefsBody(p) {
    const { podcast_id, ...body } = p; // eslint-disable-line no-unused-vars
    return body;
  }

  const fx = {
    ctx: null, stream: null, track: null, source: null, analyser: null, gain: null, limiter: null, post: null,
    buffer: null,
    available: false, // this source can be processed (same-origin, browser support)
    silent: false, // playing a silent stretch fast
    quietSince: null,
    level: 0, postLevel: 0,

    supported() { return !!((window.AudioContext || window.webkitAudioContext) && audio.captureStream); },

    /** Whether the episode in the bar is served by this server (not a redirect to another site). */
    sameOrigin() { return !!(player.episode && player.episode.download && player.episode.download.downloaded); },

    wanted() {
      const p = player.prefs || DEFAULT_PREFS;
      return p.skip_silence || p.volume_boost > 1;
    },

    graph() {
      if (this.ctx) return;
      const Ctx = window.AudioContext || window.webkitAudioContext;
      this.ctx = new Ctx();
      this.analyser = this.ctx.createAnalyser();
      this.analyser.fftSize = 1024;
      this.buffer = new Float32Array(this.analyser.fftSize);
      this.gain = this.ctx.createGain();
      this.limiter = this.ctx.createDynamicsCompressor();
      this.limiter.threshold.value = -1;
      this.limiter.knee.value = 0;
      this.limiter.ratio.value = 20;
      this.limiter.attack.value = 0.003;
      this.limiter.release.value = 0.25;
      this.post = this.ctx.createAnalyser();
      this.post.fftSize = 1024;
      this.gain.connect(this.limiter).connect(this.post);
      // An analyser is only read when something pulls it: a silent path to the output.
      const sink = this.ctx.createGain();
      sink.gain.value = 0;
      this.analyser.connect(sink).connect(this.ctx.destination);
    },

    /** (Re)bind the capture to the element's current audio track: each new source brings its own. */
    bind() {
      if (!this.ctx) return false;
      if (!this.stream) {
        try { this.stream = audio.captureStream(); } catch (_) { return false; }
      }
      const tracks = this.stream.getAudioTracks().filter((t) => t.readyState === "live");
      const track = tracks[tracks.length - 1];
      if (!track) return false;
      if (track !== this.track) {
        if (this.source) this.source.disconnect();
        this.track = track;
        this.source = this.ctx.createMediaStreamSource(new MediaStream([track]));
        this.source.connect(this.analyser);
        this.source.connect(this.gain);
      }
      return true;
    },

    /** Apply the podcast's settings to the episode in the bar (on load and after a change). */
    configure() {
      const p = player.prefs || DEFAULT_PREFS;
      this.available = this.supported() && this.sameOrigin();
      const on = this.available && this.wanted();
      if (on) { this.graph(); this.resume(); this.bind(); }
      const boost = on && p.volume_boost > 1;
      if (this.gain) {
        this.gain.gain.value = boost ? p.volume_boost : 1;
        // The processed path reaches the speakers only while boosting; else the element plays.
        try { this.post.disconnect(); } catch (_) { /* not connected */ }
        if (boost) this.post.connect(this.ctx.destination);
      }
      audio.muted = boost;
      if (!(on && p.skip_silence)) this.normal();
      renderFx();
    },

    resume() { if (this.ctx && this.ctx.state === "suspended") this.ctx.resume(); },

    normal() {
      this.quietSince = null;
      if (this.silent) { this.silent = false; audio.playbackRate = baseSpeed(); }
    },

    rms(analyser) {
      analyser.getFloatTimeDomainData(this.buffer);
      let sum = 0;
      for (let i = 0; i < this.buffer.length; i++) sum += this.buffer[i] * this.buffer[i];
      return Math.sqrt(sum / this.buffer.length);
    },

    tick() {
      const p = player.prefs || DEFAULT_PREFS;
      if (!this.ctx || !this.available || audio.paused || audio.seeking) return this.normal();
      if (!this.bind()) return;
      this.level = this.rms(this.analyser);
      this.postLevel = this.rms(this.post);
      if (!p.skip_silence) return;
      const now = performance.now();
      if (this.level >= SILENCE_LEVEL) return this.normal();
      if (this.quietSince === null) this.quietSince = now;
      if (!this.silent && now - this.quietSince >= SILENCE_MIN_MS) {
        this.silent = true;
        audio.playbackRate = Math.min(16, baseSpeed() * SILENCE_RATE);
      }
    },
  };
  setInterval(() => fx.tick(), 20);

  // -- listening history: cumulative seconds per session, reported in batches -----------------

  const REPORT_EVERY_MS = 15000;

  function sessionKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Array.from({ length: 24 }, () => Math.floor(Math.random() * 36).toString(36)).join("");
  }

  const listening = {
    sessions: new Map(), // key → {episode_id, listened, media, silence, sent}
    current: null,
    lastWall: null, lastMedia: null,

    begin(episodeId) {
      this.current = { key: sessionKey(), episode_id: episodeId, listened: 0, media: 0, silence: 0, sent: true };
      this.sessions.set(this.current.key, this.current);
      this.lastWall = null;
      renderFx();
    },

    /** Count the time since the last look (a seek or a stall is not listening). */
    tick() {
      const s = this.current, now = performance.now(), t = audio.currentTime;
      if (!s || audio.paused || audio.seeking || this.lastWall === null) {
        this.lastWall = now; this.lastMedia = t; return;
      }
      const wall = (now - this.lastWall) / 1000, media = t - this.lastMedia;
      this.lastWall = now; this.lastMedia = t;
      if (media <= 0 || wall <= 0 || media > wall * 17 + 0.5) return; // a seek, not playing
      s.listened += wall;
      s.media += media;
      // With skip silence on: the time it would have taken at the listener's speed, less the time
      // it took (counted at every look, not only while fast, so no edge of a stretch is lost;
      // timer jitter evens out).
      if (fx.available && player.prefs && player.prefs.skip_silence) s.silence += media / baseSpeed() - wall;
      s.sent = false;
    },

    saved() { const s = this.current; return s ? Math.max(0, s.media - s.listened) : 0; },

    body() {
      const reports = [];
      for (const [key, s] of this.sessions) {
        if (s.sent) continue;
        reports.push({
          session: key, episode_id: s.episode_id, listened_seconds: Math.round(s.listened * 100) / 100,
          media_seconds: Math.round(s.media * 100) / 100, silence_saved_seconds: Math.max(0, Math.round(s.silence * 100) / 100),
        });
      }
      return reports.length ? { reports: reports.slice(0, 100) } : null;
    },

    /** Send what changed; a failed send is tried again later (cumulative: never counted twice). */
    async report({ keepalive = false } = {}) {
      const body = this.body();
      if (!body) return;
      const marks = body.reports.map((r) => [this.sessions.get(r.session), r.listened_seconds]);
      if (keepalive) {
        fetch("/api/v1/listening", { method: "POST", keepalive: true, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
        return;
      }
      const result = await api("POST", "/listening", body);
      if (!result.ok) return;
      for (const [s, listened] of marks) {
        if (s.listened <= listened + 0.01) s.sent = true; // nothing new since this report
        if (s.sent && s !== this.current) for (const [k, v] of this.sessions) if (v === s) this.sessions.delete(k);
      }
    },
  };
  setInterval(() => { listening.tick(); renderSaved(); }, 250);
  setInterval(() => listening.report(), REPORT_EVERY_MS);

  // -- the bar's skip-silence button and time-saved figure ------------------------------------

  function renderFx() {
    const button = $("btn-silence"), note = $("fx-note");
    if (!button) return;
    const p = player.prefs || DEFAULT_PREFS;
    button.setAttribute("aria-pressed", p.skip_silence ? "true" : "false");
    button.disabled = !player.episode;
    let why = "";
    if (player.episode && (p.skip_silence || p.volume_boost > 1) && !fx.available) {
      why = fx.supported()
        ? "Skip silence and volume boost work on downloaded episodes; this one streams from the publisher's site, which the browser may not process."
        : "This browser cannot process audio: skip silence and volume boost are off.";
    }
    note.hidden = !why;
    note.title = why;
    button.title = why || "Skip silence (for this podcast)";
    $("player").dataset.fx = fx.available && fx.wanted() ? [p.skip_silence ? "silence" : "", p.volume_boost > 1 ? "boost" : ""].join(" ").trim() : "";
  }
  function renderSaved() {
    const el = $("time-saved");
    if (!el) return;
    const saved = listening.saved();
    el.textContent = saved >= 1 ? "saved " + clock(saved) : "";
    el.dataset.seconds = saved.toFixed(2);
  }
  async function toggleSilence() {
    if (!player.prefs) return;
    const next = { ...player.prefs, skip_silence: !player.prefs.skip_silence };
    const result = await api("PUT", `/podcasts/${next.podcast_id}/settings`, prefsBody(next));
    if (!result.ok) return toast(errorText(result));
    player.prefs = result.data;
    fx.configure();
    toast(result.data.skip_silence ? (fx.available ? "Skip silence on for this podcast." : "Skip silence is on for this podcast; it works once an episode is downloaded.") : "Skip silence off.");
  }
  /** The podcast page's settings form changed them: apply at once when that podcast is playing. */
  function applyPrefs(prefs) {
    if (!player.prefs || prefs.podcast_id !== player.prefs.podcast_id) return;
    player.prefs = prefs;
    audio.playbackRate = audio.defaultPlaybackRate = baseSpeed();
    $("speed").value = String(baseSpeed());
    fx.configure();
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
    fx.resume();
  });
  audio.addEventListener("pause", () => {
    $("btn-play").textContent = "▶"; $("btn-play").setAttribute("aria-label", "Play");
    $("player").dataset.state = "paused";
    if (!player.finishing) player.savePosition(true);
    listening.report();
  });
  audio.addEventListener("seeked", () => player.savePosition());
  audio.addEventListener("ended", playNext);
  audio.addEventListener("error", () => { if (audio.src) toast("The audio could not be loaded."); });
  setInterval(() => { if (!audio.paused) player.savePosition(); }, SAVE_EVERY_MS);
  // Leaving the page: a last save that survives the unload.
  window.addEventListener("pagehide", () => {
    listening.report({ keepalive: true });
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
  if ($("btn-silence")) $("btn-silence").addEventListener("click", toggleSilence);

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
  player.fx = fx;
  player.listening = listening;
  player.applyPrefs = applyPrefs;
  setSpeed(currentSpeed());
  setupMediaSession();
  refreshQueueCount();
  const current = localStorage.getItem("earmark.current");
  if (current) player.load(current, { play: false }); // the position comes from the server
})();
