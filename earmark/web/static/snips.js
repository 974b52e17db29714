/* Snips in the browser: one list renderer (SnipList) for the episode page and the Snips page, the
 * Snips page itself and one snip's page. pages.js dispatches to them (window.Earmark.pages). */
(function () {
  "use strict";

  const { api, toast, clock, errorText, navigate } = window.Earmark;
  const { el, button, externalLink } = window.Earmark.dom;

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

  // -- one snip's page: favourite toggle and copy (play-from-here is controls.js's [data-at]) --------

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

  window.Earmark.SnipList = SnipList;
  window.Earmark.pages = { ...(window.Earmark.pages || {}), snips: snipsPage, snip: snipPage };
})();
