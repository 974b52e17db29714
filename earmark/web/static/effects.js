/* Listening effects in the player bar: skip silence and volume boost (Web Audio), the bar's
 * skip-silence button, and a podcast's settings applied while it plays. Loads after player.js;
 * sets player.fx and player.applyPrefs (listening.js calls it when the settings form changes them).
 */
(function () {
  "use strict";

  // No Earmark.bar: an older player.js, served from a cache, holds all of this itself; this throws
  // here and the file does nothing.
  const { DEFAULT_PREFS, prefsBody, baseSpeed } = window.Earmark.bar;
  const { api, player, toast, errorText } = window.Earmark;
  const audio = player.audio;
  const $ = (id) => document.getElementById(id);

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


  const SILENCE_LEVEL = 0.01; // RMS of full scale (-40 dBFS): Pocket Casts trims below 250/32768
  const SILENCE_MIN_MS = 250; // shorter pauses are part of speech and are kept
  const SILENCE_RATE = 4; // × the listener's speed over silence (Chrome plays up to 16×)

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

  // -- the bar's skip-silence button ----------------------------------------------------------

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

  player.fx = fx;
  player.applyPrefs = applyPrefs;
  Object.assign(window.Earmark.bar, { renderFx, toggleSilence });
})();
