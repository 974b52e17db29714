/* Building DOM nodes from text (never innerHTML: feed and AI text stays text), shared by pages.js,
 * snips.js and transcript.js as window.Earmark.dom. */
(function () {
  "use strict";

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text; // never innerHTML: feed/AI text stays text
    return node;
  }
  function button(label, attrs = {}) {
    const b = el("button", attrs.cls || "small", label);
    b.type = "button";
    for (const [k, v] of Object.entries(attrs)) if (k !== "cls") b.setAttribute(k, v);
    return b;
  }
  function externalLink(label, href) {
    const a = el("a", "share-link", label);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  window.Earmark.dom = { el, button, externalLink };
})();
