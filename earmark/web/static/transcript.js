/* The episode page's transcript: fetched whole, shown through a moving window of rows
 * (window.Earmark.TranscriptView, used by pages.js). */
(function () {
  "use strict";

  const { api, player, clock, errorText } = window.Earmark;

  // -- episode: the transcript, windowed -------------------------------------------------------
  //
  // All segments are fetched (in pages of CHUNK) into an array, but at most MAX_ROWS of them are
  // in the DOM at a time: a window that moves as the listener scrolls near either end, or jumps
  // to the line being played. A 3-hour transcript (~3,000 lines) never builds thousands of nodes.

  const CHUNK = 500, MAX_ROWS = 240, STEP = 80, FOLLOW_PAUSE_MS = 4000;

  class TranscriptView {
    constructor(box, episodeId) {
      this.box = box;
      this.episodeId = Number(episodeId);
      this.segments = [];
      this.total = 0;
      this.lo = 0; // the window: segments[lo, hi) are rendered
      this.hi = 0;
      this.current = -1;
      this.userScrolledAt = 0;
      this.alive = true;
      this.onTime = () => this.follow();
      this.onScroll = () => this.scrolled();
      this.onUser = () => { this.userScrolledAt = Date.now(); };
      this.onClick = (e) => {
        const line = e.target.closest(".line");
        if (line) player.seekEpisode(this.episodeId, this.segments[Number(line.dataset.i)].start);
      };
      player.audio.addEventListener("timeupdate", this.onTime);
      box.addEventListener("scroll", this.onScroll, { passive: true });
      box.addEventListener("wheel", this.onUser, { passive: true });
      box.addEventListener("touchmove", this.onUser, { passive: true });
      box.addEventListener("click", this.onClick);
    }

    destroy() {
      this.alive = false;
      player.audio.removeEventListener("timeupdate", this.onTime);
    }

    /** Fetch every page of segments; the first page is shown as soon as it arrives. */
    async load() {
      let offset = 0;
      do {
        const result = await api("GET", `/episodes/${this.episodeId}/transcript?format=json&offset=${offset}&limit=${CHUNK}`);
        if (!this.alive) return;
        if (!result.ok) { this.box.textContent = "Transcript unavailable: " + errorText(result); return; }
        this.total = result.data.total;
        this.segments.push(...result.data.segments);
        offset += result.data.segments.length;
        if (offset === result.data.segments.length) {
          this.box.replaceChildren();
          this.renderWindow(0);
        } else if (this.hi < Math.min(this.segments.length, MAX_ROWS)) {
          this.renderWindow(this.lo);
        }
        if (!result.data.segments.length) break;
      } while (offset < this.total);
      this.follow(true);
    }

    row(i) {
      const seg = this.segments[i];
      const p = document.createElement("p");
      p.className = "line";
      p.dataset.i = String(i);
      p.dataset.start = String(seg.start);
      const ts = document.createElement("span");
      ts.className = "ts";
      ts.textContent = clock(seg.start);
      p.append(ts);
      const prev = this.segments[i - 1];
      if (seg.speaker && (!prev || prev.speaker !== seg.speaker || i === this.lo)) {
        const who = document.createElement("span");
        who.className = "speaker";
        who.textContent = seg.speaker;
        p.append(who);
      }
      const text = document.createElement("span");
      text.className = "text";
      text.textContent = seg.text; // textContent: feed text is never parsed as HTML
      p.append(text);
      if (i === this.current) p.classList.add("current");
      return p;
    }

    /** Render the window starting at `lo` from scratch. */
    renderWindow(lo) {
      this.lo = Math.max(0, Math.min(lo, Math.max(0, this.segments.length - MAX_ROWS)));
      this.hi = Math.min(this.segments.length, this.lo + MAX_ROWS);
      const rows = [];
      for (let i = this.lo; i < this.hi; i++) rows.push(this.row(i));
      this.box.replaceChildren(...rows);
    }

    /** Scrolling near an end moves the window by STEP rows, keeping what is on screen still. */
    scrolled() {
      const box = this.box;
      if (box.scrollTop + box.clientHeight > box.scrollHeight - 300 && this.hi < this.segments.length) {
        const end = Math.min(this.segments.length, this.hi + STEP);
        const add = [];
        for (let i = this.hi; i < end; i++) add.push(this.row(i));
        box.append(...add);
        this.hi = end;
        while (this.hi - this.lo > MAX_ROWS) {
          const first = box.firstElementChild, h = first.offsetHeight;
          first.remove();
          box.scrollTop -= h;
          this.lo++;
        }
      } else if (box.scrollTop < 300 && this.lo > 0) {
        const start = Math.max(0, this.lo - STEP);
        const before = box.scrollHeight;
        const add = [];
        for (let i = start; i < this.lo; i++) add.push(this.row(i));
        box.prepend(...add);
        box.scrollTop += box.scrollHeight - before;
        this.lo = start;
        while (this.hi - this.lo > MAX_ROWS) { box.lastElementChild.remove(); this.hi--; }
      }
    }

    /** The index of the segment playing at time t (binary search over starts). */
    indexAt(t) {
      let lo = 0, hi = this.segments.length - 1, found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (this.segments[mid].start <= t + 0.05) { found = mid; lo = mid + 1; } else hi = mid - 1;
      }
      return found;
    }

    /** Highlight the line being played and keep it in view (unless the listener is scrolling). */
    follow(force = false) {
      if (player.episodeId !== this.episodeId || !this.segments.length) return;
      const i = this.indexAt(player.audio.currentTime);
      if (i === this.current && !force) return;
      const old = this.box.querySelector(".line.current");
      if (old) old.classList.remove("current");
      this.current = i;
      if (i < 0) return;
      const following = Date.now() - this.userScrolledAt > FOLLOW_PAUSE_MS;
      if (i < this.lo || i >= this.hi) {
        if (!following) return;
        this.renderWindow(i - Math.floor(MAX_ROWS / 3));
      }
      const line = this.box.querySelector(`.line[data-i="${i}"]`);
      if (!line) return;
      line.classList.add("current");
      if (following) {
        const top = line.offsetTop - this.box.offsetTop - this.box.clientHeight / 2 + line.offsetHeight / 2;
        this.box.scrollTo({ top: Math.max(0, top), behavior: force ? "auto" : "smooth" });
      }
    }
  }

  window.Earmark.TranscriptView = TranscriptView;
})();
