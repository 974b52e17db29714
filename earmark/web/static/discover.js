/* The Discover page: search the podcast directories as you type, popular shows by category, a
 * preview of a show's latest episodes, subscribe in one click. Directory answers are data: every
 * text goes in with textContent, images only from this server (artwork_path). */
(function () {
  "use strict";

  const DEBOUNCE_MS = 300;
  let cleanup = null;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function art(path, big) {
    if (!path || !path.startsWith("/artwork/")) return el("div", "art art-empty" + (big ? " art-big" : ""), "🎙");
    const img = el("img", "art" + (big ? " art-big" : ""));
    img.alt = "";
    img.loading = "lazy";
    img.src = path;
    return img;
  }

  function setup() {
    const main = document.getElementById("main");
    if (!main || main.dataset.page !== "discover") return;
    const { api, toast, errorText, clock } = window.Earmark;
    const form = main.querySelector("#discover-form");
    const input = main.querySelector("#discover-q");
    const status = main.querySelector("#discover-status");
    const notes = main.querySelector("#discover-sources");
    const list = main.querySelector("#discover-results");
    const panel = main.querySelector("#discover-preview");
    const chips = main.querySelector("#discover-categories");
    let timer = null, seq = 0, previewSeq = 0, category = "";

    function showSources(sources) {
      notes.replaceChildren(...sources.filter((s) => s.state !== "ok" && s.state !== "cached").map((s) => {
        const li = el("li", s.state === "error" ? "error" : "muted", `${s.name}: ${s.message || s.state}`);
        li.dataset.source = s.source;
        li.dataset.state = s.state;
        return li;
      }));
    }

    function subscribedLink(id) {
      const a = el("a", "subscribed", "Subscribed ✓");
      a.href = `/podcasts/${id}`;
      return a;
    }

    async function subscribe(button, feedUrl) {
      button.disabled = true;
      button.textContent = "Subscribing…";
      const result = await api("POST", "/podcasts", { url: feedUrl });
      if (!result.ok) {
        button.disabled = false;
        button.textContent = "Subscribe";
        toast("Could not subscribe: " + errorText(result));
        return;
      }
      toast(result.status === 201 ? `Subscribed to ${result.data.title}.` : "Already subscribed.");
      // Every button for this feed (its card, the preview) becomes a link to the show.
      main.querySelectorAll("[data-subscribe]").forEach((b) => {
        if (b.dataset.subscribe === feedUrl) b.replaceWith(subscribedLink(result.data.id));
      });
    }

    function subscribeButton(feedUrl, podcastId) {
      if (podcastId) return subscribedLink(podcastId);
      const button = el("button", "primary small", "Subscribe");
      button.type = "button";
      button.dataset.subscribe = feedUrl;
      button.addEventListener("click", () => subscribe(button, feedUrl));
      return button;
    }

    function card(show) {
      const li = el("li", "show discover-show");
      li.dataset.feedUrl = show.feed_url;
      const head = el("div", "show-link");
      const text = el("div", "show-text");
      text.append(el("strong", "show-title", show.title));
      if (show.author) text.append(el("span", "muted show-author", show.author));
      const facts = [];
      if (show.episode_count !== null) facts.push(`${show.episode_count} episode${show.episode_count === 1 ? "" : "s"}`);
      if (show.categories.length) facts.push(show.categories.slice(0, 3).join(", "));
      if (facts.length) text.append(el("span", "muted small-text show-facts", facts.join(" · ")));
      head.append(art(show.artwork_path), text);
      const actions = el("div", "show-state");
      const preview = el("button", "small", "Preview");
      preview.type = "button";
      preview.dataset.preview = show.feed_url;
      preview.addEventListener("click", () => openPreview(show));
      actions.append(preview, subscribeButton(show.feed_url, show.subscription));
      li.append(head, actions);
      return li;
    }

    function render(result, what) {
      if (!result.ok) {
        list.replaceChildren();
        notes.replaceChildren();
        status.classList.add("error");
        status.textContent = result.status === 502 ? "Directories unavailable: " + errorText(result) : errorText(result);
        return;
      }
      status.classList.remove("error");
      const shows = result.data.results;
      status.textContent = shows.length ? `${shows.length} ${what}` : "Nothing found.";
      showSources(result.data.sources);
      list.replaceChildren(...shows.map(card));
    }

    async function search() {
      const q = input.value.trim();
      const mine = ++seq;
      history.replaceState({}, "", q ? "/discover?" + new URLSearchParams({ q }) : "/discover");
      if (!/[\p{L}\p{N}_]/u.test(q)) return popular();
      status.classList.remove("error");
      status.textContent = "Searching…";
      const result = await api("GET", "/directory/search?" + new URLSearchParams({ q, limit: "30" }));
      if (mine !== seq) return;
      render(result, result.ok && result.data.results.length === 1 ? "show" : "shows");
      if (result.ok && !result.data.results.length && /^https?:\/\/\S+$/i.test(q)) {
        // A feed address no directory knows: it can still be previewed and subscribed to.
        status.textContent = "No directory lists this address; preview the feed itself:";
        list.replaceChildren(card({ feed_url: q, title: q, author: "", episode_count: null, categories: [],
                                    artwork_path: null, subscription: null }));
      }
    }

    async function popular() {
      const mine = ++seq;
      chips.querySelectorAll("[data-category]").forEach((c) => c.setAttribute("aria-pressed", String(c.dataset.category === category)));
      status.classList.remove("error");
      status.textContent = "Loading popular shows…";
      const params = new URLSearchParams({ limit: "30" });
      if (category) params.set("category", category);
      const result = await api("GET", "/directory/trending?" + params);
      if (mine === seq) render(result, "popular shows");
    }

    async function openPreview(show) {
      const mine = ++previewSeq;
      panel.hidden = false;
      panel.replaceChildren(el("h2", "", show.title), el("p", "muted", "Reading the feed…"));
      const result = await api("GET", "/directory/preview?" + new URLSearchParams({ url: show.feed_url, limit: "10" }));
      if (mine !== previewSeq) return;
      const close = el("button", "small preview-close", "Close");
      close.type = "button";
      close.addEventListener("click", () => { panel.hidden = true; panel.replaceChildren(); });
      if (!result.ok) {
        panel.replaceChildren(close, el("h2", "", show.title), el("p", "error", "Cannot read this feed: " + errorText(result)));
        return;
      }
      const p = result.data;
      const head = el("div", "preview-head");
      const text = el("div", "show-text");
      text.append(el("h2", "preview-title", p.title));
      if (p.author) text.append(el("span", "muted", p.author));
      text.append(el("span", "muted small-text", `${p.episode_count} episode${p.episode_count === 1 ? "" : "s"} in the feed`));
      head.append(art(p.image_path || show.artwork_path, false), text);
      const episodes = el("ol", "preview-episodes");
      for (const e of p.episodes) {
        const li = el("li", "preview-episode");
        li.append(el("strong", "", e.title));
        const when = [];
        if (e.published) when.push(new Date(e.published).toLocaleDateString());
        if (e.duration) when.push(clock(e.duration));
        if (when.length) li.append(el("span", "muted small-text", " " + when.join(" · ")));
        if (e.description) li.append(el("p", "muted small-text", e.description));
        episodes.append(li);
      }
      panel.replaceChildren(close, head);
      if (p.description) panel.append(el("p", "preview-description", p.description));
      panel.append(subscribeButton(show.feed_url, p.subscription || show.subscription), el("h3", "", "Latest episodes"), episodes);
    }

    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(search, DEBOUNCE_MS);
    });
    form.addEventListener("submit", (e) => { e.preventDefault(); clearTimeout(timer); search(); });
    chips.addEventListener("click", (e) => {
      const chip = e.target.closest("[data-category]");
      if (!chip) return;
      category = chip.dataset.category;
      input.value = "";
      history.replaceState({}, "", "/discover");
      popular();
    });
    if (input.value.trim()) search();
    else popular();
    input.focus();
    cleanup = () => { clearTimeout(timer); seq++; previewSeq++; };
  }

  document.addEventListener("earmark:leave", () => { if (cleanup) cleanup(); cleanup = null; });
  document.addEventListener("earmark:page", setup);
  setup();
})();
