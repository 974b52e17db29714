/* Earmark offline: the service worker, the queue of writes made offline, "Save for offline", and
 * the phone layout's "more" button.
 *
 * The outbox (localStorage "earmark.outbox") holds writes that could not reach the server: snips
 * (each with the client_id it was first sent with, so a snip sent twice is made once) and play
 * positions (one per episode: the newest replaces an older one). It is sent when the browser is
 * back online, when a page loads and every 20 s while anything is in it; an entry leaves it only
 * once the server has answered (a 401/403 keeps it: sent once its user has logged in again). Each
 * entry carries the user whose page queued it (<body data-user>) and is sent only from that user's
 * pages, so a write made offline never goes out under the next user's session in this browser.
 *
 * Exposes window.EarmarkOffline = {enqueue, settled, flush, outbox, save, remove, isSaved, newKey}.
 */
(function () {
  "use strict";

  const OUTBOX = "earmark.outbox";
  const AUDIO = "earmark-audio"; // the service worker answers the audio from this cache (sw.js)
  const $ = (id) => document.getElementById(id);
  const toast = (m) => window.Earmark && window.Earmark.toast(m);

  // -- whose page this is ----------------------------------------------------------------------

  // The user the page was rendered for. The worker's offline page is a copy kept from whoever
  // installed the app, so there the last user a real page was rendered for is used instead.
  const USER = "earmark.user";
  const shellCopy = Boolean($("offline-page"));
  if (!shellCopy && document.body.dataset.user) localStorage.setItem(USER, document.body.dataset.user);
  const currentUser = () => (shellCopy ? localStorage.getItem(USER) : document.body.dataset.user) || null;
  // Entries queued before they were tagged: a single-user install's, i.e. the owner's (1).
  const mine = (e) => String(e.user || "1") === currentUser();

  // -- the service worker ------------------------------------------------------------------------

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((err) => console.warn("Earmark: no service worker:", err));
    // The worker empties its caches of pages, API answers and audio when the user changes (sw.js).
    if (!shellCopy && currentUser()) {
      navigator.serviceWorker.ready.then((r) => r.active && r.active.postMessage({ type: "user", user: currentUser() })).catch(() => {});
    }
  }

  // -- the outbox --------------------------------------------------------------------------------

  function outbox() {
    try { return JSON.parse(localStorage.getItem(OUTBOX) || "[]"); } catch (_) { return []; }
  }
  function store(items) { localStorage.setItem(OUTBOX, JSON.stringify(items)); }
  /** This page's user's entries; the others wait until their user is back in this browser. */
  const myOutbox = () => outbox().filter(mine);

  /** Keep a write for later; an entry with the same key is replaced (the newest position wins). */
  function enqueue(method, path, body, key) {
    const user = currentUser();
    const items = outbox().filter((e) => !(e.key === key && mine(e)));
    items.push({ key, method, path, body, at: Date.now(), user });
    store(items);
    showState();
  }
  /** A write with this key reached the server directly: an older queued one must not follow it. */
  function settled(key) {
    const items = outbox();
    if (items.some((e) => e.key === key && mine(e))) { store(items.filter((e) => !(e.key === key && mine(e)))); showState(); }
  }

  let flushing = null;
  let toldToLogIn = false;
  /** Send this user's queued writes, oldest first; stops at the first network failure. */
  function flush() {
    if (flushing) return flushing;
    const run = async () => {
      for (const entry of myOutbox()) {
        let body = entry.body;
        // When the position was taken (Unix s): one sent late does not replace a newer one (PositionIn.at).
        if (entry.key.startsWith("position:") && body && body.at === undefined) body = { ...body, at: entry.at / 1000 };
        let response;
        try {
          response = await fetch("/api/v1" + entry.path, {
            method: entry.method,
            headers: { "Content-Type": "application/json", Accept: "application/json" },
            body: JSON.stringify(body),
          });
        } catch (_) { break; } // still offline
        if (response.status >= 500 || response.status === 408 || response.status === 429) break; // try again later
        if (response.status === 401 || response.status === 403) {
          // The session expired meanwhile: kept, and sent once this user has logged in again.
          if (!toldToLogIn) toast("Log in again to send what was kept offline.");
          toldToLogIn = true;
          break;
        }
        // Sent (or refused for good, as a 404 for an episode removed meanwhile): it leaves the outbox,
        // unless a newer write with the same key was queued while this one was on its way.
        store(outbox().filter((e) => !(e.key === entry.key && e.at === entry.at && e.user === entry.user)));
        if (entry.key.startsWith("snip:")) {
          if (response.ok) {
            const snip = await response.json();
            if (response.status === 201) toast("Snip made offline is saved.");
            document.dispatchEvent(new CustomEvent("earmark:snip", { detail: snip }));
          } else toast("A snip made offline was refused: HTTP " + response.status);
        }
      }
      showState();
    };
    // One flush at a time across this browser's tabs too, where Web Locks exist.
    const locked = navigator.locks ? navigator.locks.request("earmark-outbox", run) : run();
    flushing = locked.finally(() => { flushing = null; });
    return flushing;
  }

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16)); // not a secure context (plain http on a LAN)
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function showState() {
    document.body.classList.toggle("offline", !navigator.onLine);
    const waiting = myOutbox().length;
    document.body.dataset.outbox = String(waiting);
    const badge = $("offline-badge");
    if (badge) {
      badge.hidden = navigator.onLine && !waiting;
      badge.textContent = navigator.onLine ? `${waiting} to send` : (waiting ? `offline · ${waiting} to send` : "offline");
    }
  }

  window.addEventListener("online", () => { showState(); flush(); });
  window.addEventListener("offline", showState);
  setInterval(() => { if (myOutbox().length && navigator.onLine) flush(); }, 20000);

  // -- saved audio -------------------------------------------------------------------------------

  const audioPath = (id) => `/api/v1/episodes/${Number(id)}/audio`;

  async function isSaved(id) {
    if (!("caches" in window)) return false;
    return Boolean(await (await caches.open(AUDIO)).match(audioPath(id)));
  }

  /** Fetch the episode's audio into the cache, reporting progress (0..1 or null) to onProgress. */
  async function save(id, onProgress = () => {}) {
    const path = audioPath(id);
    let response = await fetch(path, { redirect: "manual" });
    if (response.type === "opaqueredirect") {
      // Not downloaded by Earmark: the publisher's file, if its host lets a page read it (CORS).
      try { response = await fetch(path); } catch (_) { response = null; }
      if (!response || !response.ok || response.type === "opaque") {
        throw new Error("its host does not let the browser keep it; process the episode first (that downloads it to Earmark)");
      }
    }
    if (!response.ok) throw new Error("HTTP " + response.status);
    const total = Number(response.headers.get("content-length")) || 0;
    let done = 0;
    const counted = response.body.pipeThrough(new TransformStream({
      transform(chunk, controller) { done += chunk.byteLength; onProgress(total ? done / total : null); controller.enqueue(chunk); },
    }));
    const headers = { "Content-Type": response.headers.get("content-type") || "application/octet-stream" };
    if (total) headers["Content-Length"] = String(total);
    await (await caches.open(AUDIO)).put(path, new Response(counted, { headers }));
    // What the player asks for when it loads the episode, so it starts offline too.
    const ep = await fetch(`/api/v1/episodes/${id}`).then((r) => r.json()).catch(() => null);
    await Promise.all([
      `/api/v1/episodes/${id}/chapters`, `/api/v1/episodes/${id}/transcript?format=json&offset=0&limit=500`, `/episodes/${id}`,
      ep ? `/api/v1/podcasts/${ep.podcast_id}` : null,
    ].filter(Boolean).map((u) => fetch(u, u.startsWith("/episodes/") ? { headers: { Accept: "text/html" } } : {}).catch(() => null)));
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
  }

  async function remove(id) {
    await (await caches.open(AUDIO)).delete(audioPath(id));
  }

  function megabytes(bytes) {
    if (bytes >= 1073741824) return (bytes / 1073741824).toFixed(1) + " GB";
    return (bytes / 1048576).toFixed(bytes < 10485760 ? 1 : 0) + " MB";
  }

  async function storageText() {
    if (!navigator.storage || !navigator.storage.estimate) return "";
    const { usage = 0, quota = 0 } = await navigator.storage.estimate();
    return `Offline storage: ${megabytes(usage)} used` + (quota ? ` of ${megabytes(quota)}` : "");
  }

  /** The episode page's "Save for offline" / "Saved · Remove". */
  async function setupEpisode() {
    const box = $("offline-save");
    if (!box || !("caches" in window)) return;
    const id = box.dataset.episode;
    const button = box.querySelector("[data-action=save]");
    const removeButton = box.querySelector("[data-action=remove]");
    const status = $("offline-status") || document.createElement("p");
    const render = async () => {
      const saved = await isSaved(id);
      box.hidden = false;
      box.dataset.saved = saved ? "yes" : "no";
      button.hidden = saved;
      button.disabled = false;
      button.textContent = "⬇ Save for offline";
      removeButton.hidden = !saved;
      status.textContent = (saved ? "✓ Saved for offline. " : "") + (await storageText());
    };
    button.onclick = async () => {
      button.disabled = true;
      button.textContent = "Saving…";
      try {
        await save(id, (p) => { if (p !== null) button.textContent = `Saving… ${Math.round(p * 100)}%`; });
        toast("Saved for offline.");
      } catch (err) {
        toast("Cannot save for offline: " + err.message);
      }
      render();
    };
    removeButton.onclick = async () => { await remove(id); toast("Removed from this device."); render(); };
    await render();
  }

  // -- the phone layout: the player's extra controls behind one button ----------------------------

  const more = $("btn-more");
  if (more) {
    more.addEventListener("click", () => {
      const player = $("player");
      const open = player.dataset.expanded !== "true";
      player.dataset.expanded = String(open);
      more.setAttribute("aria-expanded", String(open));
    });
  }

  window.EarmarkOffline = { enqueue, settled, flush, outbox, save, remove, isSaved, newKey };
  document.addEventListener("earmark:page", setupEpisode);
  setupEpisode();
  showState();
  if (navigator.onLine && myOutbox().length) flush();
})();
