/* Dashboard charts: ECharts (vendored) drawing the JSON the page embeds in #dashboard-data.
   Clicking a bar, point or slice opens the list behind it (each data point carries its link). */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent || "{}");
  var palette = ["#1d4ed8", "#b91c1c", "#15803d", "#b45309", "#7c3aed", "#0e7490"];
  var font = { fontFamily: "-apple-system, 'PingFang SC', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif" };

  function go(link) { if (link) { window.location.href = link; } }

  var builders = {
    trend: function (d) {
      return {
        option: {
          color: palette, textStyle: font,
          tooltip: { trigger: "axis" },
          legend: { data: ["签到率（%）", "健康异常（人）"] },
          grid: { left: 48, right: 48, top: 40, bottom: 28 },
          xAxis: { type: "category", data: d.days },
          yAxis: [
            { type: "value", name: "%", min: 0, max: 100 },
            { type: "value", name: "人", minInterval: 1 }
          ],
          series: [
            { name: "签到率（%）", type: "line", smooth: true, data: d.rate, label: { show: false } },
            {
              name: "健康异常（人）", type: "bar", yAxisIndex: 1, data: d.abnormal, barMaxWidth: 14,
              itemStyle: { color: palette[1], opacity: 0.55 }
            }
          ]
        },
        link: function (p) { return p.seriesIndex === 0 ? d.links[p.dataIndex] : d.abnormal_links[p.dataIndex]; }
      };
    },
    townships: function (d) {
      return {
        option: {
          color: [palette[2], palette[3]], textStyle: font,
          tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
          legend: { data: ["已签到", "未签到"] },
          grid: { left: 72, right: 16, top: 40, bottom: 28 },
          xAxis: { type: "value", minInterval: 1 },
          yAxis: { type: "category", data: d.names, inverse: true },
          series: [
            { name: "已签到", type: "bar", stack: "all", data: d.answered },
            { name: "未签到", type: "bar", stack: "all", data: d.not_answered }
          ]
        },
        link: function (p) {
          return p.seriesIndex === 0 ? d.answered_links[p.dataIndex] : d.not_answered_links[p.dataIndex];
        }
      };
    },
    leads: pie("线索"),
    tips: pie("举报")
  };

  function pie(name) {
    return function (d) {
      var total = d.items.reduce(function (sum, item) { return sum + item.value; }, 0);
      return {
        option: {
          color: palette, textStyle: font,
          tooltip: { trigger: "item", formatter: "{b}：{c}（{d}%）" },
          legend: { show: total > 0, bottom: 0 },
          // With nothing to count, say so rather than draw equal slices of nothing.
          title: total ? undefined : { text: "暂无数据", left: "center", top: "middle", textStyle: { color: "#66788a" } },
          series: [{
            name: name, type: "pie", radius: ["35%", "65%"], stillShowZeroSum: false,
            data: d.items.filter(function (item) { return item.value > 0; }),
            label: { formatter: "{b} {c}" }
          }]
        },
        link: function (p) { return p.data && p.data.link; }
      };
    };
  }

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var key = el.getAttribute("data-chart");
    if (!data[key] || !builders[key]) { return; }
    var built = builders[key](data[key]);
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(built.option);
    chart.on("click", function (p) { go(built.link(p)); });
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
