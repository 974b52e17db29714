/* Per-page behaviour, run on first load and after every <main> swap (player.js's navigate).
 * Each page's setup returns a cleanup function, called when the listener leaves the page. */
(function () {
  "use strict";

  const { api, player, navigate, toast, clock, errorText } = window.Earmark;
  let cleanup = null;

  // -- library ---------------------------------------------------------------------------------

  function libraryPage(main) {
    const form = main.querySelector("#subscribe-form");
    const status = main.querySelector("#subscribe-status");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const url = form.url.value.trim();
      status.textContent = "Subscribing…";
      const result = await api("POST", "/podcasts", { url });
      if (!result.ok) { status.textContent = "Could not subscribe: " + errorText(result); return; }
      await navigate("/", { replace: true });
      toast(result.status === 201 ? `Subscribed to ${result.data.title}.` : "Already subscribed.");
    });

    const opml = main.querySelector("#opml-form");
    opml.addEventListener("submit", async (e) => {
      e.preventDefault();
      const file = opml.file.files[0];
      if (!file) { status.textContent = "Choose an OPML file first."; return; }
      status.textContent = "Importing…";
      const body = new FormData();
      body.append("file", file);
      const response = await fetch("/api/v1/opml", { method: "POST", body });
      const data = await response.json();
      if (!response.ok) { status.textContent = "Import failed: " + data.error.message; return; }
      await navigate("/", { replace: true });
      toast(`Imported: ${data.added.length} added, ${data.failed.length} failed.`);
    });

    main.querySelectorAll("[data-refresh]").forEach((button) => {
      button.addEventListener("click", async () => {
        const state = button.parentElement.querySelector(".refresh-state");
        button.disabled = true;
        state.textContent = "refreshing…";
        const result = await api("POST", `/podcasts/${button.dataset.refresh}/refresh`);
        button.disabled = false;
        if (!result.ok) { state.textContent = errorText(result); return; }
        const r = result.data;
        state.textContent = r.status === "error" ? "⚠ " + r.error : `${r.status}, ${r.new_episodes} new`;
      });
    });
  }

  // -- queue -----------------------------------------------------------------------------------

  function queuePage(main) {
    const list = main.querySelector("#queue-list");
    list.addEventListener("click", async (e) => {
      const button = e.target.closest("[data-move],[data-remove]");
      if (!button) return;
      const row = button.closest("[data-episode-id]");
      let ids = [...list.querySelectorAll("[data-episode-id]")].map((r) => Number(r.dataset.episodeId));
      const id = Number(row.dataset.episodeId), i = ids.indexOf(id);
      if (button.dataset.remove !== undefined) ids.splice(i, 1);
      else {
        const j = i + Number(button.dataset.move);
        if (j < 0 || j >= ids.length) return;
        [ids[i], ids[j]] = [ids[j], ids[i]];
      }
      const result = await api("PUT", "/queue", { episode_ids: ids });
      if (!result.ok) return toast(errorText(result));
      window.Earmark.refreshQueueCount();
      await navigate("/queue", { replace: true });
    });
  }


  // -- snips: one list renderer for the episode page and the Snips page ------------------------

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text; // never innerHTML: feed/AI text stays text
    return node;
  }
  function button(label, attrs = {}) {
    const b = el("button", attrs.cls || "small", label);
    b.type = "button";
    for (const [k, v] of Object.entries(attrs)) if (k !== "cls") b.setAttribute(k, v);
    return b;
  }
  function externalLink(label, href) {
    const a = el("a", "share-link", label);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  const POLL_MS = 1000, POLL_TRIES = 300;

  class SnipList {
    constructor(list, empty, { showEpisode = false } = {}) {
      this.list = list;
      this.empty = empty;
      this.showEpisode = showEpisode;
      this.snips = new Map();
      this.timers = new Map();
      this.onClick = (e) => this.clicked(e);
      list.addEventListener("click", this.onClick);
    }

    destroy() {
      for (const t of this.timers.values()) clearTimeout(t);
      this.timers.clear();
    }

    set(items, append = false) {
      if (!append) { this.list.replaceChildren(); this.snips.clear(); }
      for (const snip of items) {
        this.snips.set(snip.id, snip);
        this.list.append(this.item(snip));
        if (snip.state === "pending") this.watch(snip.id);
      }
      this.updateEmpty();
    }

    prepend(snip) {
      if (this.snips.has(snip.id)) return;
      this.snips.set(snip.id, snip);
      this.list.prepend(this.item(snip));
      if (snip.state === "pending") this.watch(snip.id);
      this.updateEmpty();
    }

    updateEmpty() { if (this.empty) this.empty.hidden = this.snips.size > 0; }

    /** Poll a pending snip until its AI card is made (or failed). */
    watch(id, tries = 0) {
      clearTimeout(this.timers.get(id));
      this.timers.set(id, setTimeout(async () => {
        const result = await api("GET", `/snips/${id}`);
        if (!this.timers.has(id)) return; // destroyed meanwhile
        if (result.ok) this.replace(result.data);
        if (result.status === 404) { this.remove(id); return; }
        if ((!result.ok || result.data.state === "pending") && tries < POLL_TRIES) this.watch(id, tries + 1);
        else this.timers.delete(id);
      }, POLL_MS));
    }

    replace(snip) {
      this.snips.set(snip.id, snip);
      const old = this.list.querySelector(`[data-snip-id="${snip.id}"]`);
      if (old) old.replaceWith(this.item(snip));
    }

    remove(id) {
      this.snips.delete(id);
      clearTimeout(this.timers.get(id));
      this.timers.delete(id);
      const old = this.list.querySelector(`[data-snip-id="${id}"]`);
      if (old) old.remove();
      this.updateEmpty();
    }

    item(snip) {
      const li = el("li", "snip card");
      li.dataset.snipId = String(snip.id);
      li.dataset.state = snip.state;
      if (snip.favorite) li.classList.add("favorite");
      const head = el("div", "card-head");
      head.append(
        button("▶ " + clock(snip.start), { "data-episode": snip.episode_id, "data-at": snip.start, title: "Play from here" }),
        (() => {
          const title = el("strong", "snip-title");
          const a = el("a", "snip-link", snip.title || (snip.state === "pending" ? "Snip at " + clock(snip.start) : "Untitled snip"));
          a.href = `/snips/${snip.id}`;
          title.append(a);
          return title;
        })(),
        button(snip.favorite ? "★" : "☆", {
          cls: "small fav", "data-action": "favorite", "aria-pressed": String(snip.favorite),
          title: snip.favorite ? "Unfavourite" : "Favourite", "aria-label": "Favourite",
        }),
      );
      const parts = [head];
      if (snip.state === "pending") parts.push(el("p", "muted pending", "Making the AI card…"));
      if (snip.state === "failed") parts.push(el("p", "error", "No AI card: " + (snip.error || "failed")));
      if (snip.takeaways.length) {
        const ul = el("ul", "takeaways");
        for (const t of snip.takeaways) ul.append(el("li", "", t));
        parts.push(ul);
      }
      if (snip.quote) {
        const q = el("blockquote", "quote", "“" + snip.quote + "”");
        if (snip.quote_speaker) q.append(el("cite", "", " — " + snip.quote_speaker));
        parts.push(q);
      }
      if (snip.note) parts.push(el("p", "note", snip.note));
      if (snip.tags.length) {
        const tags = el("p", "tags");
        for (const t of snip.tags) tags.append(el("span", "tag", t), " ");
        parts.push(tags);
      }
      if (this.showEpisode) {
        const where = el("p", "muted small-text");
        const a = el("a", "", snip.episode_title || "Episode " + snip.episode_id);
        a.href = `/episodes/${snip.episode_id}`;
        where.append(a, " · " + (snip.podcast_title || ""));
        parts.push(where);
      }
      const actions = el("div", "card-actions");
      actions.append(button("Edit", { "data-action": "edit" }));
      if (snip.share) {
        actions.append(externalLink("Share on X", snip.share.twitter), externalLink("WhatsApp", snip.share.whatsapp),
                       button("Copy text", { "data-action": "copy" }));
      }
      actions.append(button("Delete", { "data-action": "delete", cls: "small danger" }));
      parts.push(actions);
      li.append(...parts);
      return li;
    }

    editor(li, snip) {
      const form = el("form", "snip-edit");
      const title = el("input");
      title.type = "text"; title.name = "title"; title.maxLength = 300; title.value = snip.title;
      title.setAttribute("aria-label", "Title");
      const note = el("textarea");
      note.name = "note"; note.rows = 3; note.value = snip.note; note.placeholder = "Your note";
      note.setAttribute("aria-label", "Note");
      const save = el("button", "small primary", "Save");
      save.type = "submit";
      form.append(title, note, el("div", "card-actions"));
      form.lastChild.append(save, button("Cancel", { "data-action": "cancel" }));
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const changes = {};
        if (title.value !== snip.title) changes.title = title.value;
        if (note.value !== snip.note) changes.note = note.value;
        const result = await api("PATCH", `/snips/${snip.id}`, changes);
        if (!result.ok) { toast("Not saved: " + errorText(result)); return; }
        this.replace(result.data);
      });
      li.querySelector(".card-actions").replaceWith(form);
      title.focus();
    }

    async clicked(e) {
      const b = e.target.closest("[data-action]");
      if (!b) return;
      const li = b.closest("[data-snip-id]");
      const id = Number(li.dataset.snipId), snip = this.snips.get(id);
      const action = b.dataset.action;
      if (action === "favorite") {
        const result = await api("PATCH", `/snips/${id}`, { favorite: !snip.favorite });
        if (result.ok) this.replace(result.data); else toast(errorText(result));
      } else if (action === "delete") {
        if (!confirm("Delete this snip?")) return;
        const result = await api("DELETE", `/snips/${id}`);
        if (result.ok || result.status === 404) { this.remove(id); toast("Snip deleted."); } else toast(errorText(result));
      } else if (action === "edit") this.editor(li, snip);
      else if (action === "cancel") this.replace(snip);
      else if (action === "copy") {
        try { await navigator.clipboard.writeText(snip.share.text); toast("Copied."); }
        catch (_) { prompt("Copy this text:", snip.share.text); }
      }
    }
  }

  function snipsPage(main) {
    const form = main.querySelector("#snip-filters");
    const more = main.querySelector("#snips-more");
    const list = new SnipList(main.querySelector("#all-snips"), main.querySelector("#snips-empty"), { showEpisode: true });
    const LIMIT = 50;
    let offset = 0;
    function query() {
      const q = new URLSearchParams();
      if (form.podcast.value) q.set("podcast", form.podcast.value);
      if (form.tag.value.trim()) q.set("tag", form.tag.value.trim());
      if (form.favorite.checked) q.set("favorite", "true");
      return q;
    }
    async function load(append) {
      const q = query();
      q.set("limit", String(LIMIT));
      q.set("offset", String(offset));
      const result = await api("GET", "/snips?" + q);
      if (!result.ok) { toast(errorText(result)); return; }
      list.set(result.data.items, append);
      more.hidden = !result.data.has_more;
      const exp = form.querySelector(".export");
      const eq = query(); eq.set("format", "markdown");
      exp.href = "/api/v1/snips/export?" + eq;
    }
    form.addEventListener("submit", (e) => { e.preventDefault(); offset = 0; load(false); });
    more.addEventListener("click", () => { offset += LIMIT; load(true); });
    const onSnip = (e) => list.prepend(e.detail);
    document.addEventListener("earmark:snip", onSnip);
    load(false);
    return () => { list.destroy(); document.removeEventListener("earmark:snip", onSnip); };
  }

  // -- search ----------------------------------------------------------------------------------

  function searchPage(main) {
    const form = main.querySelector("#search-form");
    const status = main.querySelector("#search-status");
    const results = main.querySelector("#search-results");
    let seq = 0;
    async function run() {
      const q = form.q.value.trim();
      if (!q) return;
      const mine = ++seq;
      history.replaceState({}, "", "/search?" + new URLSearchParams({ q }));
      status.textContent = "Searching…";
      const params = new URLSearchParams({ q, mode: form.mode.value, limit: "30" });
      const result = await api("GET", "/search?" + params);
      if (mine !== seq) return;
      if (!result.ok) { status.textContent = errorText(result); results.replaceChildren(); return; }
      const hits = result.data.results;
      status.textContent = hits.length ? `${hits.length} result${hits.length > 1 ? "s" : ""}` : "Nothing found.";
      results.replaceChildren(...hits.map(renderHit));
    }
    function renderHit(hit) {
      const li = el("li", "result card");
      const a = el("a", "result-link");
      if (hit.episode_id) {
        a.href = `/episodes/${hit.episode_id}` + (hit.start !== null ? `?t=${Math.floor(hit.start * 10) / 10}` : "");
      } else a.href = `/podcasts/${hit.podcast_id}`;
      const head = el("span", "result-head");
      if (hit.start !== null) head.append(el("span", "time", clock(hit.start)));
      head.append(el("strong", "", hit.episode_title || hit.podcast_title));
      a.append(head);
      const snippet = el("span", "snippet");
      for (const span of hit.snippet) snippet.append(span.hit ? el("mark", "", span.text) : document.createTextNode(span.text));
      a.append(snippet);
      li.append(a, el("p", "muted small-text", [hit.podcast_title, hit.kind].filter(Boolean).join(" · ")));
      return li;
    }
    form.addEventListener("submit", (e) => { e.preventDefault(); run(); });
    if (form.q.value.trim()) run();
    else form.q.focus();
  }

  // -- episode: processing progress ------------------------------------------------------------

  function renderStages(box, job) {
    box.dataset.jobState = job.state;
    const rows = job.stages.map((s) => {
      const row = document.createElement("div");
      row.className = "stage stage-" + s.state;
      row.dataset.stage = s.name;
      const name = document.createElement("span");
      name.className = "stage-name";
      name.textContent = s.name;
      const bar = document.createElement("progress");
      bar.max = 100;
      bar.value = s.progress || 0;
      const state = document.createElement("span");
      state.className = "stage-state";
      state.textContent = s.state + (s.error ? ": " + s.error : "");
      row.append(name, bar, state);
      return row;
    });
    if (job.state === "done") {
      // Fully processed: one line, the stages inside it (as episode.html renders it).
      const details = document.createElement("details");
      details.className = "stages-done";
      const summary = document.createElement("summary");
      summary.className = "stage-summary";
      const names = document.createElement("span");
      names.className = "muted";
      names.textContent = job.stages.map((s) => s.name).join(" · ");
      summary.append("✓ Processed ", names);
      details.append(summary, ...rows);
      box.replaceChildren(details);
    } else box.replaceChildren(...rows);
    if (job.state === "failed" && job.error) {
      const p = document.createElement("p");
      p.className = "error";
      p.textContent = job.error;
      box.append(p);
    }
  }

  function processing(main, episodeId, onDone, onFinished) {
    const box = main.querySelector("#processing");
    const button = main.querySelector("#btn-process");
    let timer = null;
    let shown = false; // the transcript appears as soon as its stage is done, before later stages

    async function poll() {
      const result = await api("GET", `/jobs?episode_id=${episodeId}&limit=1`);
      if (result.ok && result.data.length) {
        const job = result.data[0];
        renderStages(box, job);
        const stage = job.stages.find((s) => s.name === "transcript");
        if (!shown && stage && stage.state === "done") { shown = true; onDone(); }
        if (!["queued", "running"].includes(job.state)) {
          stop();
          if (onFinished) onFinished(job);
          button.disabled = false;
          if (shown) button.textContent = "Process again";
          return;
        }
      }
      timer = setTimeout(poll, 1000);
    }
    function stop() { clearTimeout(timer); timer = null; }

    button.addEventListener("click", async () => {
      button.disabled = true;
      const result = await api("POST", `/episodes/${episodeId}/process`);
      if (!result.ok) { button.disabled = false; toast(errorText(result)); return; }
      renderStages(box, result.data);
      stop();
      shown = false;
      poll();
    });
    if (["queued", "running"].includes(box.dataset.jobState)) poll();
    return stop;
  }

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


  /** After processing: the summary, chapters and highlights panels again, from the server. */
  async function refreshPanels(main) {
    let response;
    try { response = await fetch(location.pathname, { headers: { Accept: "text/html" } }); } catch (_) { return; }
    if (!response.ok) return;
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const id of ["summary-panel", "chapters-panel", "highlights-panel"]) {
      const fresh = doc.getElementById(id), old = main.querySelector("#" + id);
      if (fresh && old) old.replaceWith(document.adoptNode(fresh));
    }
  }

  function askBox(main, episodeId) {
    const form = main.querySelector("#ask-form");
    const out = main.querySelector("#ask-answer");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const question = form.question.value.trim();
      if (!question) return;
      const submit = form.querySelector("button");
      submit.disabled = true;
      out.replaceChildren(el("p", "muted", "Reading the episode…"));
      const result = await api("POST", `/episodes/${episodeId}/ask`, { question });
      submit.disabled = false;
      if (!result.ok) { out.replaceChildren(el("p", "error", errorText(result))); return; }
      const a = result.data;
      const parts = [el("p", a.answerable ? "answer-text" : "answer-text muted", a.answer)];
      if (a.citations.length) {
        const ol = el("ol", "citations");
        for (const c of a.citations) {
          const li = el("li");
          const b = button(clock(c.start), { cls: "linkish time", "data-seek": c.start, title: "Play from here" });
          li.append(b, " ", el("span", "muted", c.text.length > 160 ? c.text.slice(0, 157) + "…" : c.text));
          ol.append(li);
        }
        parts.push(ol);
      }
      out.replaceChildren(...parts);
    });
  }

  function episodePage(main) {
    const article = main.querySelector("#episode");
    const episodeId = article.dataset.episodeId;
    const box = main.querySelector("#transcript");
    let view = null;
    function showTranscript() {
      if (view) view.destroy();
      box.dataset.hasTranscript = "yes";
      view = new TranscriptView(box, episodeId);
      view.load();
    }
    if (box.dataset.hasTranscript === "yes") showTranscript();
    const stopPolling = processing(main, episodeId, showTranscript, (job) => { if (job.state === "done") refreshPanels(main); });
    const onEpisode = () => view && view.follow(true);
    document.addEventListener("earmark:episode", onEpisode);

    main.addEventListener("click", (e) => {
      if (e.target.closest("[data-process-too]")) main.querySelector("#btn-process").click();
    });
    askBox(main, episodeId);

    const snips = new SnipList(main.querySelector("#episode-snips"), main.querySelector("#snips-empty"));
    api("GET", `/episodes/${episodeId}/snips?limit=200`).then((result) => {
      if (result.ok) {
        const shown = [...snips.snips.values()];
        snips.set(result.data.items);
        for (const s of shown) snips.prepend(s); // made while the list was loading
      }
    });
    const onSnip = (e) => { if (e.detail.episode_id === Number(episodeId)) snips.prepend(e.detail); };
    document.addEventListener("earmark:snip", onSnip);

    // /episodes/ID?t=SECONDS (search results, share links): play from that moment.
    const t = Number(new URLSearchParams(location.search).get("t"));
    if (new URLSearchParams(location.search).has("t") && isFinite(t) && t >= 0) player.seekEpisode(episodeId, t, true);

    return () => {
      stopPolling();
      if (view) view.destroy();
      snips.destroy();
      document.removeEventListener("earmark:episode", onEpisode);
      document.removeEventListener("earmark:snip", onSnip);
    };
  }

  // -- one snip's page: favourite toggle and copy (play-from-here is player.js's [data-at]) ----------

  function snipPage(main) {
    const card = main.querySelector("#snip");
    if (!card) return;
    const id = card.dataset.snipId;
    card.addEventListener("click", async (e) => {
      const b = e.target.closest("[data-action]");
      if (!b) return;
      if (b.dataset.action === "favorite") {
        const result = await api("PATCH", `/snips/${id}`, { favorite: b.getAttribute("aria-pressed") !== "true" });
        if (!result.ok) return toast(errorText(result));
        await navigate(`/snips/${id}`, { replace: true });
      } else if (b.dataset.action === "copy") {
        try { await navigator.clipboard.writeText(b.dataset.text); toast("Copied."); }
        catch (_) { prompt("Copy this text:", b.dataset.text); }
      }
    });
  }

  // -- dispatch ----------------------------------------------------------------------------------

  const PAGES = { library: libraryPage, queue: queuePage, episode: episodePage, snips: snipsPage, snip: snipPage, search: searchPage };

  function setup() {
    const main = document.getElementById("main");
    const init = PAGES[main.dataset.page];
    cleanup = init ? init(main) || null : null;
  }
  document.addEventListener("earmark:leave", () => { if (cleanup) cleanup(); cleanup = null; });
  document.addEventListener("earmark:page", setup);
  setup();
})();
