// martctl docs: search on the index, column highlighting, pan and zoom, keyboard shortcuts. No network.
(function () {
  "use strict";

  // --- search: filter the catalog rows by every word typed ("/" focuses, Enter opens the first match)
  var input = document.getElementById("search");
  if (input) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr.entry"));
    var count = document.getElementById("search-count");
    var filter = function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var text = row.getAttribute("data-search");
        var hit = words.every(function (w) { return text.indexOf(w) !== -1; });
        row.classList.toggle("hidden", !hit);
        if (hit) shown++;
      });
      document.querySelectorAll("section.area").forEach(function (section) {
        section.classList.toggle("hidden", !section.querySelector("tr.entry:not(.hidden)"));
      });
      count.textContent = words.length ? shown + " of " + rows.length + " match" : "";
    };
    input.addEventListener("input", filter);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        var first = document.querySelector("tr.entry:not(.hidden) a");
        if (first) window.location.href = first.getAttribute("href");
      } else if (event.key === "Escape") {
        input.value = ""; filter();
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "/" && document.activeElement !== input) { event.preventDefault(); input.focus(); }
    });
    if (input.value) filter();
  }

  // --- column lineage: select a column, highlight what it comes from and what depends on it
  document.querySelectorAll("svg.columns").forEach(function (svg) {
    var edges = Array.prototype.slice.call(svg.querySelectorAll(".edge"));
    var cols = Array.prototype.slice.call(svg.querySelectorAll(".col"));
    var byId = {};
    cols.forEach(function (c) { byId[c.getAttribute("data-id")] = c; });
    var said = document.getElementById("lineage-said");
    var walk = function (start, from, to) {
      var seen = {}, todo = [start], found = [];
      while (todo.length) {
        var id = todo.pop();
        edges.forEach(function (edge) {
          if (edge.getAttribute(to) === id) {
            edge.classList.add(from === "data-from" ? "upstream" : "downstream");
            var next = edge.getAttribute(from);
            if (!seen[next]) { seen[next] = true; found.push(next); todo.push(next); }
          }
        });
      }
      return found;
    };
    var clear = function () {
      svg.classList.remove("active");
      cols.forEach(function (c) { c.classList.remove("selected", "upstream", "downstream"); c.setAttribute("aria-pressed", "false"); });
      edges.forEach(function (e) { e.classList.remove("upstream", "downstream"); });
    };
    var select = function (col) {
      var id = col.getAttribute("data-id");
      var again = col.classList.contains("selected");
      clear();
      if (again) { if (said) said.textContent = ""; return; }
      svg.classList.add("active");
      col.classList.add("selected");
      col.setAttribute("aria-pressed", "true");
      var up = walk(id, "data-from", "data-to");
      var down = walk(id, "data-to", "data-from");
      up.forEach(function (u) { if (byId[u]) byId[u].classList.add("upstream"); });
      down.forEach(function (d) { if (byId[d]) byId[d].classList.add("downstream"); });
      if (said) said.textContent = id + " comes from " + (up.join(", ") || "nothing drawn") +
        "; used by " + (down.join(", ") || "nothing drawn") + ".";
    };
    cols.forEach(function (col, i) {
      col.addEventListener("click", function () { select(col); });
      col.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); select(col); }
        else if (event.key === "ArrowDown" && cols[i + 1]) { event.preventDefault(); cols[i + 1].focus(); }
        else if (event.key === "ArrowUp" && cols[i - 1]) { event.preventDefault(); cols[i - 1].focus(); }
        else if (event.key === "Escape") { clear(); if (said) said.textContent = ""; }
      });
    });
  });

  // --- pan (drag) and zoom (wheel with Ctrl, or the buttons) on every picture
  document.querySelectorAll("[data-pan]").forEach(function (box) {
    var svg = box.querySelector("svg");
    if (!svg) return;
    var width = Number(svg.getAttribute("width")), height = Number(svg.getAttribute("height")), scale = 1;
    var zoom = function (factor) {
      scale = factor ? Math.min(4, Math.max(0.2, scale * factor)) : 1;
      svg.setAttribute("width", width * scale); svg.setAttribute("height", height * scale);
    };
    var bar = document.createElement("div");
    bar.className = "zoom";
    [["+", "Zoom in", 1.25], ["−", "Zoom out", 0.8], ["⟲", "Reset zoom", 0]].forEach(function (spec) {
      var b = document.createElement("button");
      b.type = "button"; b.textContent = spec[0]; b.setAttribute("aria-label", spec[1]);
      b.addEventListener("click", function () { zoom(spec[2]); });
      bar.appendChild(b);
    });
    box.parentNode.insertBefore(bar, box);
    svg.addEventListener("wheel", function (event) {
      if (!event.ctrlKey) return;
      event.preventDefault(); zoom(event.deltaY > 0 ? 0.9 : 1.1);
    }, { passive: false });
    var drag = null;
    svg.addEventListener("mousedown", function (event) { drag = [event.clientX, event.clientY, box.scrollLeft, box.scrollTop]; });
    window.addEventListener("mouseup", function () { drag = null; });
    window.addEventListener("mousemove", function (event) {
      if (!drag) return;
      box.scrollLeft = drag[2] - (event.clientX - drag[0]); box.scrollTop = drag[3] - (event.clientY - drag[1]);
    });
  });
})();
