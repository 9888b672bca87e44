/* supplygraph views: draws the network in #graph-data with vis-network (served by the app, or inlined). */
(function () {
  "use strict";
  var holder = document.getElementById("graph-data");
  var box = document.getElementById("network");
  if (!holder || !box || typeof vis === "undefined") { return; }
  var started = performance.now();
  var data = JSON.parse(holder.textContent);
  var parsed = performance.now();
  var nodes = new vis.DataSet(data.nodes);
  var edges = new vis.DataSet(data.edges);
  var network = new vis.Network(box, { nodes: nodes, edges: edges }, data.options);
  var sg = { network: network, nodes: nodes, edges: edges, drawnAt: null, stabilizedAt: null, expanded: {},
             timings: { parse: parsed - started, build: performance.now() - parsed } };
  window.sg = sg;
  var status = document.getElementById("network-status");

  function report() {
    if (status) { status.textContent = nodes.length + " nodes, " + edges.length + " links drawn"; }
    box.setAttribute("data-nodes", String(nodes.length));
  }
  network.once("afterDrawing", function () {
    sg.drawnAt = performance.now() - started;  // since this script started
    sg.drawnSinceNavigation = performance.now();  // since the page was requested
    box.setAttribute("data-drawn", "1");
    report();
  });
  network.on("stabilized", function () {
    if (sg.stabilizedAt === null) { sg.stabilizedAt = performance.now() - started; }
    network.setOptions({ physics: { enabled: false } });
  });

  var base = box.getAttribute("data-expand");  // e.g. /ui/api/neighbours ; absent offline
  function expand(node, offset) {
    if (!base || !node.sg_label) { return; }
    var url = base + "/" + encodeURIComponent(node.sg_label.toLowerCase()) + "/" + encodeURIComponent(node.sg_id) +
      "?offset=" + encodeURIComponent(offset || 0);
    box.setAttribute("data-busy", "1");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { nodes: [], edges: [] }; })
      .then(function (page) {
        var fresh = page.nodes.filter(function (n) { return !nodes.get(n.id); });
        nodes.add(fresh);
        var known = {};
        edges.get().forEach(function (e) { known[e.from + "\u0000" + e.to] = true; });
        edges.add(page.edges.filter(function (e) { return !known[e.from + "\u0000" + e.to]; }));
        report();
        if (fresh.length) {  // let the new nodes settle, then physics stops again (the "stabilized" handler)
          network.setOptions({ physics: { enabled: true } });
          network.stabilize(120);
        }
        box.removeAttribute("data-busy");
        box.setAttribute("data-expanded", String((+box.getAttribute("data-expanded") || 0) + 1));
      });
  }

  network.on("click", function (params) {
    if (!params.nodes.length) { return; }
    var node = nodes.get(params.nodes[0]);
    var info = document.getElementById("node-info");
    if (info) { info.textContent = node.title || node.label; }
    if (node.sg_type === "more") {
      nodes.remove(node.id);
      expand(node, node.sg_offset);
    } else if (box.getAttribute("data-kind") === "entity" && !sg.expanded[node.id]) {
      sg.expanded[node.id] = true;
      expand(node, 0);
    }
  });

  var answers = document.getElementById("answers");
  if (answers) {  // a click on an answer selects its path in the drawing
    answers.addEventListener("click", function (event) {
      var item = event.target.closest ? event.target.closest("[data-path]") : null;
      if (!item) { return; }
      var keys = JSON.parse(item.getAttribute("data-path"));
      network.selectNodes(keys.filter(function (k) { return nodes.get(k); }));
    });
  }
  var more = document.getElementById("more-answers");  // the side list comes a page at a time
  if (more && answers) {
    more.addEventListener("click", function () {
      more.disabled = true;
      fetch(more.getAttribute("data-next"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { html: "", next: null }; })
        .then(function (page) {
          answers.insertAdjacentHTML("beforeend", page.html);
          if (page.next) {
            more.setAttribute("data-next", page.next.url);
            more.textContent = "Show more answers (" + page.next.left + " left)";
            more.disabled = false;
          } else {
            more.remove();
          }
        });
    });
  }
  report();
})();
