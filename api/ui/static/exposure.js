/* supplygraph's large exposure views (after ui.js drew the network): a click on a node opens its page (a
   folded group's page draws its factories), and the first view is at a zoom where labels can be read. */
(function () {
  "use strict";
  var sg = window.sg;
  var box = document.getElementById("network");
  if (!sg || !box || box.getAttribute("data-links") !== "1") { return; }
  var network = sg.network;
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var font = (((data.options || {}).nodes || {}).font || {}).size || 14;
  var READABLE = 11;  // px: the smallest label size the first view shows

  network.on("click", function (params) {
    if (!params.nodes.length) { return; }
    var node = sg.nodes.get(params.nodes[0]);
    if (!node) { return; }
    var cut = node.id.indexOf(":");  // keys are Label:id; a node without sg_href opens that entity's page
    var href = "sg_href" in node ? node.sg_href : (cut > 0 ? "/ui/entity/" + node.id.slice(0, cut).toLowerCase() + "/" +
      encodeURIComponent(node.id.slice(cut + 1)) : null);
    if (href) { window.location.assign(href); }
  });

  function readableView() {
    // vis-network starts fitted to the whole drawing: kept when its labels are readable so; otherwise the
    // view starts at a readable zoom at the left, beside the affiliate, with the paths running right from it.
    var least = READABLE / font;
    if (network.getScale() < least) {
      var minX = Infinity, minY = Infinity, root = null;
      var positions = network.getPositions();
      Object.keys(positions).forEach(function (k) {
        minX = Math.min(minX, positions[k].x); minY = Math.min(minY, positions[k].y);
        if (root === null && k.indexOf("Affiliate:") === 0) { root = positions[k]; }
      });
      var w = box.clientWidth / least, h = box.clientHeight / least;
      var y = root ? Math.max(root.y, minY - 20 + h / 2) : minY - 20 + h / 2;
      network.moveTo({ position: { x: minX - 40 + w / 2, y: y }, scale: least, animation: false });
    }
    sg.labelPx = network.getScale() * font;
  }

  function ready() {
    readableView();
    sg.readyAt = performance.now();  // since the navigation started
    box.setAttribute("data-ready", "1");
  }
  if (box.getAttribute("data-drawn") === "1") { ready(); } else { network.once("afterDrawing", ready); }
  var fit = document.getElementById("fit-all");
  if (fit) { fit.addEventListener("click", function () { network.fit({ animation: false }); }); }
})();
