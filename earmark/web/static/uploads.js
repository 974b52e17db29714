/* Your own audio: the drop zone on the Library page (and on an uploads podcast's page). Each file
 * is sent as the raw body of POST /api/v1/uploads with XMLHttpRequest, whose upload progress
 * events give a bar per file; several files go one after another. */
(function () {
  "use strict";

  function row(list, file) {
    const li = document.createElement("li");
    li.className = "upload-item";
    const name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    const state = document.createElement("span");
    state.className = "upload-state muted";
    state.textContent = "waiting";
    li.append(name, bar, state);
    list.append(li);
    return { li, bar, state };
  }

  function send(file, podcast, view) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      let url = "/api/v1/uploads?filename=" + encodeURIComponent(file.name);
      if (podcast) url += "&podcast=" + encodeURIComponent(podcast);
      xhr.open("POST", url);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.upload.onprogress = (e) => {
        if (!e.lengthComputable) return;
        view.bar.value = Math.round((100 * e.loaded) / e.total);
        view.state.textContent = view.bar.value < 100 ? view.bar.value + "%" : "checking…";
      };
      xhr.onload = () => {
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
        if (xhr.status === 200 || xhr.status === 201) {
          view.bar.value = 100;
          view.li.classList.add("done");
          view.state.textContent = xhr.status === 201 ? "added" : "already there";
          const link = document.createElement("a");
          link.href = "/episodes/" + data.episode.id;
          link.className = "upload-episode";
          link.textContent = data.episode.title;
          view.li.append(link);
          resolve(data);
        } else {
          view.li.classList.add("failed");
          view.state.textContent = (data && data.error && data.error.message) || "failed (HTTP " + xhr.status + ")";
          resolve(null);
        }
      };
      xhr.onerror = () => { view.li.classList.add("failed"); view.state.textContent = "the connection failed"; resolve(null); };
      view.state.textContent = "0%";
      xhr.send(file);
    });
  }

  async function uploadAll(zone, files) {
    const list = zone.querySelector("#upload-list");
    const views = [...files].map((f) => [f, row(list, f)]);
    let added = 0;
    for (const [file, view] of views) if (await send(file, zone.dataset.podcast, view)) added++;
    if (window.Earmark && window.Earmark.toast) window.Earmark.toast(`${added} of ${views.length} file(s) uploaded.`);
  }

  function setup() {
    const zone = document.getElementById("upload-zone");
    if (!zone || zone.dataset.ready) return;
    zone.dataset.ready = "1";
    zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("dragging"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("dragging");
      if (e.dataTransfer && e.dataTransfer.files.length) uploadAll(zone, e.dataTransfer.files);
    });
    const input = zone.querySelector("#upload-files");
    input.addEventListener("change", () => { if (input.files.length) uploadAll(zone, input.files); input.value = ""; });
  }

  document.addEventListener("earmark:page", setup);
  setup();
})();
