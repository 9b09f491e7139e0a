// Draws the unit ranking from the JSON the page embeds (#scores-data); the table below repeats
// it, so the page reads the same without JavaScript. A click on a bar opens that unit's tasks.
(function () {
  "use strict";
  var node = document.getElementById("scores-data");
  var el = document.getElementById("chart-scores");
  if (!node || !el || typeof echarts === "undefined") { return; }
  var data = JSON.parse(node.textContent);
  var c = echarts.init(el, null, { renderer: "svg" });
  c.setOption({
    color: ["#1677ff"],
    tooltip: { trigger: "axis" },
    grid: { left: 160 },
    xAxis: { type: "value", min: 0, max: 100 },
    yAxis: { type: "category", inverse: true, data: data.map(function (r) { return r.name; }) },
    series: [{ type: "bar", data: data }]
  });
  c.on("click", function (p) { if (p.data && p.data.url) { window.location.href = p.data.url; } });
  window.addEventListener("resize", function () { c.resize(); });
})();
