/* The player's controls: the bar's buttons, keyboard shortcuts, [data-play], [data-enqueue],
 * [data-seek] and [data-at] buttons anywhere in the pages, and the Media Session (lock screen,
 * headphone buttons). Loads after the rest of the bar (player.js, effects.js,
 * listening-history.js) and starts the player: speed, queue count, the episode last in the bar.
 */
(function () {
  "use strict";

  // No Earmark.bar: an older player.js, served from a cache, holds all of this itself; this throws
  // here and the file does nothing.
  const { currentSpeed, setSpeed, stepSpeed, setSleep, enqueue, toggleSilence } = window.Earmark.bar;
  const { player, refreshQueueCount } = window.Earmark;
  const audio = player.audio;
  const $ = (id) => document.getElementById(id);

  // -- controls ------------------------------------------------------------------------------

  $("btn-play").addEventListener("click", () => player.toggle());
  $("btn-back").addEventListener("click", () => player.skip(-15));
  $("btn-fwd").addEventListener("click", () => player.skip(30));
  $("btn-chap-prev").addEventListener("click", () => player.chapterPrev());
  $("btn-chap-next").addEventListener("click", () => player.chapterNext());
  $("btn-snip").addEventListener("click", () => player.snip());
  $("seek").addEventListener("change", (e) => player.seek(Number(e.target.value)));
  $("speed").addEventListener("change", (e) => setSpeed(Number(e.target.value)));
  $("sleep").addEventListener("change", (e) => setSleep(e.target.value));
  if ($("btn-silence")) $("btn-silence").addEventListener("click", toggleSilence);

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) && t.type !== "range") return;
    switch (e.key) {
      case " ": if (t && t.tagName === "BUTTON") return; e.preventDefault(); player.toggle(); break;
      case "ArrowLeft": e.preventDefault(); player.skip(-15); break;
      case "ArrowRight": e.preventDefault(); player.skip(30); break;
      case "[": stepSpeed(-1); break;
      case "]": stepSpeed(1); break;
      case "s": case "S": player.snip(); break;
      default: return;
    }
  });

  // Buttons anywhere in the pages: [data-play], [data-enqueue], [data-seek].
  document.addEventListener("click", (e) => {
    const button = e.target.closest("[data-play],[data-enqueue],[data-seek],[data-at]");
    if (!button) return;
    if (button.dataset.at && button.dataset.episode) player.seekEpisode(button.dataset.episode, Number(button.dataset.at));
    else if (button.dataset.play) player.load(button.dataset.play, { play: true });
    else if (button.dataset.enqueue) enqueue(button.dataset.enqueue);
    else if (button.dataset.seek) {
      const page = document.querySelector("[data-episode-id]#episode");
      if (page) player.seekEpisode(page.dataset.episodeId, Number(button.dataset.seek));
    }
  });

  // -- Media Session (lock screen, headphone buttons) ---------------------------------------

  function setupMediaSession() {
    if (!("mediaSession" in navigator)) return;
    const snipAction = document.body.dataset.snipAction || "off";
    const handlers = {
      play: () => player.play(),
      pause: () => audio.pause(),
      seekbackward: (d) => player.skip(-((d && d.seekOffset) || 15)),
      seekforward: (d) => player.skip((d && d.seekOffset) || 30),
      seekto: (d) => player.seek(d.seekTime),
      previoustrack: () => player.chapterPrev(),
      nexttrack: () => player.chapterNext(),
    };
    // The action chosen in the settings (headphone_snip_action) saves a snip instead.
    if (snipAction in handlers) handlers[snipAction] = () => player.snip();
    for (const [action, handler] of Object.entries(handlers)) {
      try { navigator.mediaSession.setActionHandler(action, handler); } catch (_) { /* unsupported action */ }
    }
  }

  // -- start ---------------------------------------------------------------------------------

  setSpeed(currentSpeed());
  setupMediaSession();
  refreshQueueCount();
  const current = localStorage.getItem("earmark.current");
  if (current) player.load(current, { play: false }); // the position comes from the server
})();
