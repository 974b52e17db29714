/* Earmark's service worker (served as /sw.js so its scope is the whole app).
 *
 * - Pages and GET /api/v1 answers: network first, the last good copy when the network fails, so
 *   the library and every episode page already opened (transcript, summary, chapters) work offline.
 * - /static and artwork: the cached copy at once, refreshed in the background.
 * - Writes (POST, PUT, PATCH, DELETE) are never cached nor answered from a cache: pwa.js queues
 *   the offline ones (snips, positions) and sends them when the connection is back.
 * - Audio saved for offline (pwa.js puts it in the AUDIO cache) is answered from the cache,
 *   Range requests included (206 from a slice of the cached blob): the <audio> element seeks in it.
 * - What is kept of a user (RUNTIME, AUDIO) is emptied on a login or logout, and when a page (its
 *   <body data-user>, or pwa.js's message) was rendered for another user than they were kept for.
 */
"use strict";

const VERSION = "v5";
const SHELL = "earmark-shell-" + VERSION; // the app's code and the offline page: nothing of a user's
const RUNTIME = "earmark-runtime"; // pages, API answers and artwork seen since (kept across versions)
const AUDIO = "earmark-audio"; // episodes saved for offline: only pwa.js adds or removes them
const NETWORK_TIMEOUT_MS = 6000; // a page that hangs longer (a dead Wi-Fi) is answered from the cache
const STATE = "earmark-state"; // whose data RUNTIME and AUDIO hold
const OWNER_KEY = "/__earmark/user"; // its entry in STATE: a user id, "" (emptied: nobody's yet)

// Every stylesheet and script that base.html loads (tests/web/test_pages.py checks it), in its order.
const SHELL_FILES = [
  "/static/app.css", "/static/reel.css", "/static/player.js", "/static/effects.js", "/static/listening-history.js",
  "/static/controls.js", "/static/navigation.js", "/static/dom.js", "/static/snips.js", "/static/transcript.js",
  "/static/pages.js", "/static/discover.js", "/static/uploads.js", "/static/listening.js",
  "/static/pwa.js", "/static/reel.js", "/static/icons/icon-192.png", "/manifest.webmanifest", "/offline",
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
    const keep = new Set([SHELL, RUNTIME, AUDIO, STATE]);
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
    // A login or logout: what this browser kept of the user's library goes with it.
    if (url.pathname === "/logout" || url.pathname === "/login") event.waitUntil(forget(""));
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

// -- whose data is kept ------------------------------------------------------------------------

// Empties and refills are chained: a page cached after a wipe was asked for is not wiped with it.
let wiping = Promise.resolve();

/** Empty RUNTIME and AUDIO, then note whose they are from now on. */
function forget(owner) {
  wiping = wiping.then(async () => {
    await Promise.all([caches.delete(RUNTIME), caches.delete(AUDIO)]);
    await (await caches.open(STATE)).put(OWNER_KEY, new Response(owner));
  }).catch(() => {});
  return wiping;
}

/** A page (pwa.js) says whose it is: another user than the caches were filled for empties them. */
function pageUser(user) {
  wiping = wiping.then(async () => {
    const kept = await (await caches.open(STATE)).match(OWNER_KEY);
    const owner = kept ? await kept.text() : null;
    if (owner === user) return;
    if (owner === "") await (await caches.open(STATE)).put(OWNER_KEY, new Response(user)); // emptied at login
    else { // another user, or not known (kept by an older worker): anyone's
      await Promise.all([caches.delete(RUNTIME), caches.delete(AUDIO)]);
      await (await caches.open(STATE)).put(OWNER_KEY, new Response(user));
    }
  }).catch(() => {});
  return wiping;
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "user" && /^\d+$/.test(String(data.user))) event.waitUntil(pageUser(String(data.user)));
});

/** Put an answer in RUNTIME; a page rendered for another user empties it first. */
async function keep(request, response) {
  if ((response.headers.get("content-type") || "").includes("text/html")) {
    const user = /<body\b[^>]*\sdata-user="(\d+)"/.exec(await response.clone().text());
    if (user) await pageUser(user[1]);
  }
  await wiping;
  await (await caches.open(RUNTIME)).put(request, response);
}

// -- strategies --------------------------------------------------------------------------------

function keepable(response) {
  if (!response || response.status !== 200 || response.type !== "basic" || response.redirected) return false;
  const type = response.headers.get("content-type") || "";
  return /json|html|text\/vtt|text\/plain|image\//.test(type);
}

async function fromCaches(request) {
  // ignoreVary: a page kept from a navigation also answers navigation.js's fetch of it (another Accept).
  const options = { ignoreVary: true };
  return (await caches.match(request, { ...options, cacheName: RUNTIME })) || (await caches.match(request, { ...options, cacheName: SHELL }));
}

async function networkFirst(request, html) {
  try {
    // Only pages time out: an API answer may take long online (a slow feed's preview or search).
    const response = await (html ? withTimeout(fetch(request), NETWORK_TIMEOUT_MS) : fetch(request));
    if (keepable(response)) keep(request, response.clone()).catch(() => {});
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
      await keep(request, response.clone()); // RUNTIME is looked in first
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
