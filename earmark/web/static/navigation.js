/* In-page navigation: links inside the app are followed by fetching the page and swapping <main>
 * (history.pushState), so the player bar, and playback, never stop while browsing. pages.js wires
 * up each page after a swap (the "earmark:page" event). Adds window.Earmark.navigate.
 */
(function () {
  "use strict";

  if (!window.Earmark.bar) return; // an older player.js, served from a cache, navigates itself
  const { toast } = window.Earmark;

  // -- navigation: swap <main>, keep the player ---------------------------------------------

  function isAppLink(a, e) {
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return false;
    if (a.target || a.hasAttribute("download") || a.origin !== location.origin) return false;
    return !/^\/(api|static|docs|openapi\.json)(\/|$)/.test(a.pathname) && a.getAttribute("href") !== "#";
  }

  async function navigate(url, { push = true, replace = false } = {}) {
    let response;
    try {
      response = await fetch(url, { headers: { Accept: "text/html" } });
    } catch (err) {
      toast("Cannot reach Earmark.");
      return;
    }
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = doc.getElementById("main");
    if (!fresh) { location.href = url; return; }
    document.dispatchEvent(new CustomEvent("earmark:leave"));
    document.getElementById("main").replaceWith(document.adoptNode(fresh));
    document.title = doc.title;
    if (replace) history.replaceState({}, "", url);
    else if (push) history.pushState({}, "", url);
    if (push && !replace) window.scrollTo(0, 0);
    document.dispatchEvent(new CustomEvent("earmark:page"));
  }

  document.addEventListener("click", (e) => {
    const a = e.target.closest("a[href]");
    if (!isAppLink(a, e)) return;
    e.preventDefault();
    navigate(a.href);
  });
  window.addEventListener("popstate", () => navigate(location.href, { push: false }));

  window.Earmark.navigate = navigate;
})();
