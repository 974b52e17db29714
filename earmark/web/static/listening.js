/* A podcast's playback settings (the form on its page): speed, skip silence, volume boost, intro
 * and outro skip, auto-delete of finished downloads — each listener's own, kept on the server
 * (GET/PUT /api/v1/podcasts/{id}/settings). A change applies at once when that podcast is playing. */
(function () {
  "use strict";

  async function settingsForm(main) {
    const box = main.querySelector("#podcast-settings");
    if (!box) return;
    const { api, toast, errorText, player } = window.Earmark;
    const form = box.querySelector("#settings-form");
    const status = box.querySelector("#settings-status");
    const url = `/podcasts/${box.dataset.podcastId}/settings`;

    function fill(s) {
      form.speed.value = s.speed === null ? "" : String(s.speed);
      form.skip_silence.checked = s.skip_silence;
      form.volume_boost.value = String(s.volume_boost);
      if (form.volume_boost.value !== String(s.volume_boost)) form.volume_boost.value = "1";
      form.skip_intro.value = String(s.skip_intro);
      form.skip_outro.value = String(s.skip_outro);
      if (form.auto_delete) form.auto_delete.checked = s.auto_delete;
      // Open when anything differs from the defaults, so a listener sees what is in effect.
      if (s.speed !== null || s.skip_silence || s.volume_boost > 1 || s.skip_intro || s.skip_outro || s.auto_delete) box.open = true;
    }

    const current = await api("GET", url);
    if (current.ok) fill(current.data);

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const seconds = (input) => Math.max(0, Math.min(600, Math.round(Number(input.value) || 0)));
      const body = {
        speed: form.speed.value ? Number(form.speed.value) : null,
        skip_silence: form.skip_silence.checked,
        volume_boost: Number(form.volume_boost.value),
        skip_intro: seconds(form.skip_intro),
        skip_outro: seconds(form.skip_outro),
        auto_delete: form.auto_delete ? form.auto_delete.checked : false,
      };
      const result = await api("PUT", url, body);
      if (!result.ok) { status.textContent = ""; toast("Settings not saved: " + errorText(result)); return; }
      fill(result.data);
      status.textContent = "Saved.";
      player.applyPrefs(result.data);
    });
  }

  function setup() {
    const main = document.getElementById("main");
    if (main.dataset.page === "podcast") settingsForm(main);
  }
  document.addEventListener("earmark:page", setup);
  setup();
})();
