/* Earmark's service worker (served as /sw.js so its scope is the whole app).
 *
 * - Pages and GET /api/v1 answers: network first, the last good copy when the network fails, so
 *   the library and every episode page already opened (transcript, summary, chapters) work offline.
 * - /static and artwork: the cached copy at once, refreshed in the background.
 * - Writes (POST, PUT, PATCH, DELETE) are never cached nor answered from a cache: pwa.js queues
 *   the offline ones (snips, positions) and sends them when the connection is back.
 * - Audio saved for offline (pwa.js puts it in the AUDIO cache) is answered from the cache,
 *   Range requests included (206 from a slice of the cached blob): the <audio> element seeks in it.
 */
"use strict";

const VERSION = "v1";
const SHELL = "earmark-shell-" + VERSION; // the app's code and the pages of the first visit
const RUNTIME = "earmark-runtime"; // pages, API answers and artwork seen since (kept across versions)
const AUDIO = "earmark-audio"; // episodes saved for offline: only pwa.js adds or removes them
const NETWORK_TIMEOUT_MS = 6000; // a page that hangs longer (a dead Wi-Fi) is answered from the cache

const SHELL_FILES = [
  "/static/app.css", "/static/player.js", "/static/pages.js", "/static/discover.js", "/static/uploads.js",
  "/static/pwa.js", "/static/icons/icon-192.png", "/manifest.webmanifest", "/offline", "/",
];
const AUDIO_PATH = /^\/api\/v1\/episodes\/\d+\/audio$/;
// Never kept: answers that are downloads, streams or one-off (exports, feeds, the worker itself).
const NOT_CACHED = /^\/(api\/v1\/(snips\/export|opml|uploads)|feeds\/|sw\.js|login|logout|docs|openapi\.json)/;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL);
    // One by one: a page that fails (a login redirect) must not stop the rest.
    await Promise.all(SHELL_FILES.map(async (url) => {
      try {
        const response = await fetch(url, { cache: "no-cache", credentials: "same-origin" });
        if (response.ok && !response.redirected) await cache.put(url, response);
      } catch (_) { /* offline during install: the next visit fills it */ }
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const keep = new Set([SHELL, RUNTIME, AUDIO]);
    for (const name of await caches.keys()) {
      if (name.startsWith("earmark-") && !keep.has(name)) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return; // the browser's own handling
  if (request.method !== "GET") {
    // A logout: what this browser kept of the user's library goes with it.
    if (url.pathname === "/logout") event.waitUntil(caches.delete(RUNTIME));
    return;
  }
  if (AUDIO_PATH.test(url.pathname)) {
    event.respondWith(audio(request, url));
    return;
  }
  if (NOT_CACHED.test(url.pathname)) return;
  if (url.pathname.startsWith("/static/") || url.pathname.startsWith("/artwork/")) {
    event.respondWith(cacheFirst(event, request));
    return;
  }
  const html = request.mode === "navigate" || (request.headers.get("accept") || "").includes("text/html");
  if (html || url.pathname.startsWith("/api/v1/")) event.respondWith(networkFirst(request, html));
});

// -- strategies --------------------------------------------------------------------------------

function keepable(response) {
  if (!response || response.status !== 200 || response.type !== "basic" || response.redirected) return false;
  const type = response.headers.get("content-type") || "";
  return /json|html|text\/vtt|text\/plain|image\//.test(type);
}

async function fromCaches(request) {
  // ignoreVary: a page kept from a navigation also answers player.js's fetch of it (another Accept).
  const options = { ignoreVary: true };
  return (await caches.match(request, { ...options, cacheName: RUNTIME })) || (await caches.match(request, { ...options, cacheName: SHELL }));
}

async function networkFirst(request, html) {
  try {
    const response = await withTimeout(fetch(request), NETWORK_TIMEOUT_MS);
    if (keepable(response)) {
      const copy = response.clone();
      caches.open(RUNTIME).then((cache) => cache.put(request, copy)).catch(() => {});
    }
    return response;
  } catch (err) {
    const cached = await fromCaches(request);
    if (cached) return cached;
    if (html) {
      const offline = await caches.match("/offline");
      if (offline) return offline;
    }
    return new Response(JSON.stringify({ error: { code: "offline", message: "offline, and this was never fetched before" } }), {
      status: 503, headers: { "Content-Type": "application/json" },
    });
  }
}

async function cacheFirst(event, request) {
  const cached = await fromCaches(request);
  const refresh = fetch(request).then(async (response) => {
    if (response.status === 200 && response.type === "basic" && !response.redirected) {
      await (await caches.open(RUNTIME)).put(request, response.clone()); // RUNTIME is looked in first
    }
    return response;
  });
  if (cached) {
    event.waitUntil(refresh.catch(() => {})); // stale while revalidating: the next load gets the new copy
    return cached;
  }
  return refresh;
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out")), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
}

// -- saved audio, with Range -------------------------------------------------------------------

async function audio(request, url) {
  const cached = await caches.match(url.pathname, { cacheName: AUDIO });
  if (!cached) return fetch(request); // not saved: straight to the server (its own Range, or a redirect)
  const range = request.headers.get("range");
  if (!range) return cached;
  const blob = await cached.blob();
  const size = blob.size;
  const match = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  let start, end;
  if (match && match[1] !== "") {
    start = Number(match[1]);
    end = match[2] !== "" ? Math.min(Number(match[2]), size - 1) : size - 1;
  } else if (match && match[2] !== "") { // bytes=-N: the last N bytes
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  }
  if (start === undefined || start >= size || start > end) {
    return new Response(null, { status: 416, headers: { "Content-Range": `bytes */${size}` } });
  }
  return new Response(blob.slice(start, end + 1), {
    status: 206,
    headers: {
      "Content-Type": cached.headers.get("content-type") || "application/octet-stream",
      "Content-Range": `bytes ${start}-${end}/${size}`,
      "Content-Length": String(end - start + 1),
      "Accept-Ranges": "bytes",
    },
  });
}
