/* dmzoo gallery: client-side filter of the datamodule cards, and copy buttons on code.
   Plain JavaScript, no dependency, no network: the site works offline. */
(function () {
  "use strict";

  function setupFilter(root) {
    var q = root.querySelector("#dmzoo-q");
    var task = root.querySelector("#dmzoo-task");
    var ns = root.querySelector("#dmzoo-namespace");
    var count = root.querySelector("#dmzoo-count");
    var empty = document.getElementById("dmzoo-empty");
    // The sphinx-design grid items, and what each is filtered by (the same order).
    var cards = Array.prototype.slice.call(document.querySelectorAll(".dmzoo-card"));
    var data = JSON.parse(root.querySelector("#dmzoo-card-filters").textContent);

    // Filters live in the query string, so a filtered view can be linked to.
    var params = new URLSearchParams(window.location.search);
    q.value = params.get("q") || "";
    task.value = params.get("task") || "";
    ns.value = params.get("namespace") || "";

    function apply() {
      var words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      cards.forEach(function (card, i) {
        var text = data[i].text;
        var ok = (!task.value || data[i].task === task.value) &&
                 (!ns.value || data[i].namespace === ns.value) &&
                 words.every(function (w) { return text.indexOf(w) !== -1; });
        card.hidden = !ok;
        if (ok) { shown += 1; }
      });
      count.textContent = shown + " of " + cards.length + " datamodules";
      empty.hidden = shown !== 0;
      var next = new URLSearchParams();
      if (q.value) { next.set("q", q.value); }
      if (task.value) { next.set("task", task.value); }
      if (ns.value) { next.set("namespace", ns.value); }
      var query = next.toString();
      window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
    }

    q.addEventListener("input", apply);
    task.addEventListener("change", apply);
    ns.addEventListener("change", apply);
    apply();
  }

  function copyText(text, done) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text, done); });
    } else {
      fallbackCopy(text, done);
    }
  }

  function fallbackCopy(text, done) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); done(); } finally { document.body.removeChild(area); }
  }

  function setupCopyButtons() {
    document.querySelectorAll("div.highlight").forEach(function (block) {
      var pre = block.querySelector("pre");
      if (!pre || block.querySelector(".dmzoo-copy")) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "dmzoo-copy";
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy this code");
      button.addEventListener("click", function () {
        // Console snippets: copy the command, not the "$ " prompt.
        var text = pre.textContent.replace(/^\$ /gm, "");
        copyText(text, function () {
          button.textContent = "Copied";
          window.setTimeout(function () { button.textContent = "Copy"; }, 1500);
        });
      });
      block.appendChild(button);
    });
  }

  function init() {
    var root = document.getElementById("dmzoo-gallery-app");
    if (root) { setupFilter(root); }
    setupCopyButtons();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
