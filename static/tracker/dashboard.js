// Draws the dashboard charts from the JSON the page embeds (#dashboard-data). Every chart
// repeats a table that follows it, so the page reads the same without JavaScript; a click on
// a bar or slice opens the filtered task list behind it.
(function () {
  "use strict";
  var node = document.getElementById("dashboard-data");
  if (!node || typeof echarts === "undefined") { return; }
  var data = JSON.parse(node.textContent);
  var colours = ["#8c8c8c", "#1677ff", "#faad14", "#52c41a", "#237804"];

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    var c = echarts.init(el, null, { renderer: "svg" });
    c.setOption(option);
    c.on("click", function (p) { if (p.data && p.data.url) { window.location.href = p.data.url; } });
    window.addEventListener("resize", function () { c.resize(); });
    return c;
  }

  chart("chart-status", {
    color: colours,
    tooltip: { trigger: "item" },
    series: [{ type: "pie", radius: ["40%", "70%"], data: data.status }]
  });

  chart("chart-history", {
    tooltip: { trigger: "axis", valueFormatter: function (v) { return v + "%"; } },
    xAxis: { type: "category", data: data.history.map(function (r) { return r.week; }) },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: [{ type: "line", data: data.history.map(function (r) { return r.rate; }) }]
  });

  chart("chart-units", {
    color: ["#cf1322"],
    tooltip: { trigger: "axis" },
    grid: { left: 160 },
    xAxis: { type: "value" },
    yAxis: { type: "category", inverse: true, data: data.units.map(function (u) { return u.name; }) },
    series: [{ type: "bar", data: data.units }]
  });

  chart("chart-categories", {
    color: ["#52c41a", "#faad14"],
    tooltip: { trigger: "axis" },
    legend: {},
    grid: { left: 260 },
    xAxis: { type: "value" },
    yAxis: { type: "category", inverse: true, data: data.categories.map(function (c) { return c.name; }) },
    series: [
      { name: document.documentElement.lang === "en" ? "done" : "已完成", type: "bar", stack: "all",
        data: data.categories.map(function (c) { return { value: c.done, url: c.url }; }) },
      { name: document.documentElement.lang === "en" ? "open" : "未完成", type: "bar", stack: "all",
        data: data.categories.map(function (c) { return { value: c.open, url: c.url }; }) }
    ]
  });

  chart("chart-types", {
    color: ["#1677ff"],
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: data.types.map(function (t) { return t.name; }) },
    yAxis: { type: "value" },
    series: [{ type: "bar", data: data.types }]
  });
})();
