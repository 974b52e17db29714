/* Listening history from the player bar: the seconds listened in each session (one episode
 * loaded), reported in batches to POST /api/v1/listening, and the bar's time-saved figure (speed
 * and skipped silence). Loads after effects.js; sets player.listening.
 */
(function () {
  "use strict";

  // No Earmark.bar: an older player.js, served from a cache, holds all of this itself; this throws
  // here and the file does nothing.
  const { baseSpeed, renderFx } = window.Earmark.bar;
  const { api, player, clock } = window.Earmark;
  const audio = player.audio;
  const fx = player.fx;
  const $ = (id) => document.getElementById(id);

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

  // -- the bar's time-saved figure -------------------------------------------------------------

  function renderSaved() {
    const el = $("time-saved");
    if (!el) return;
    const saved = listening.saved();
    el.textContent = saved >= 1 ? "saved " + clock(saved) : "";
    el.dataset.seconds = saved.toFixed(2);
  }

  player.listening = listening;
})();
