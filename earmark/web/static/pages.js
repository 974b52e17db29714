/* Per-page behaviour, run on first load and after every <main> swap (navigation.js's navigate).
 * Each page's setup returns a cleanup function, called when the listener leaves the page.
 * The snip list and the Snips pages are snips.js's, the transcript view transcript.js's (both
 * loaded before this file). */
(function () {
  "use strict";

  const { api, player, navigate, toast, clock, errorText, SnipList, TranscriptView } = window.Earmark;
  const { el, button } = window.Earmark.dom;
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

  /** "about 7 min left" from a job's eta_seconds (jobs/eta.py's describe); "" when unknown. */
  function timeLeft(seconds) {
    if (seconds === null || seconds === undefined) return "";
    if (seconds < 60) return "less than a minute left";
    const minutes = Math.round(seconds / 60);
    if (minutes < 60) return `about ${minutes} min left`;
    const h = Math.floor(minutes / 60), m = minutes % 60;
    return m ? `about ${h} h ${m} min left` : `about ${h} h left`;
  }

  // -- queue -----------------------------------------------------------------------------------

  /** The "processing N% · about M min left" tags of the rows, kept current while any shows. */
  function queueProgress(list) {
    let timer = null;
    async function poll() {
      const tags = new Map([...list.querySelectorAll("[data-processing]")]
        .map((tag) => [Number(tag.closest("[data-episode-id]").dataset.episodeId), tag]));
      if (!tags.size) return;
      const result = await api("GET", "/jobs?limit=50"); // live jobs come first
      if (result.ok) {
        const latest = new Map();
        for (const j of result.data) if (!latest.has(j.episode_id)) latest.set(j.episode_id, j);
        for (const [id, tag] of tags) {
          const job = latest.get(id);
          if (!job || !["queued", "running"].includes(job.state)) {
            tag.textContent = job && job.state === "done" ? "processed" : "processing stopped";
            tag.removeAttribute("data-processing");
            continue;
          }
          const left = timeLeft(job.eta_seconds);
          tag.textContent = `processing ${Math.round(job.progress)}%` + (left ? " · " + left : "");
        }
      }
      timer = setTimeout(poll, 3000);
    }
    timer = setTimeout(poll, 3000);
    return () => clearTimeout(timer);
  }

  function queuePage(main) {
    const list = main.querySelector("#queue-list");
    const stopProgress = queueProgress(list);
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
    return stopProgress;
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
      const left = s.state === "running" ? timeLeft(s.eta_seconds) : "";
      state.textContent = s.state + (s.worker ? " on " + s.worker : "") + (s.error ? ": " + s.error : "") + (left ? " · " + left : "");
      row.append(name, bar, state);
      return row;
    });
    const left = job.state === "running" ? timeLeft(job.eta_seconds) : "";
    if (left) {
      // The whole job's time left, from the speed measured on this machine (as episode.html renders it).
      const p = document.createElement("p");
      p.className = "processing-eta muted";
      p.textContent = left;
      rows.unshift(p);
    }
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

  // -- dispatch ----------------------------------------------------------------------------------

  const PAGES = { library: libraryPage, queue: queuePage, episode: episodePage, search: searchPage, ...window.Earmark.pages };

  function setup() {
    const main = document.getElementById("main");
    const init = PAGES[main.dataset.page];
    cleanup = init ? init(main) || null : null;
  }
  document.addEventListener("earmark:leave", () => { if (cleanup) cleanup(); cleanup = null; });
  document.addEventListener("earmark:page", setup);
  setup();
})();
