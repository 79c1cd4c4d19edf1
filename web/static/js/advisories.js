// Advisories: live sending progress (polls the page's progress.json) and the reach chart (ECharts).
(function () {
  "use strict";
  const POLL_MS = 4000;

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then((r) => {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  function followProgress(box) {
    const bar = box.querySelector("progress");
    function show(data) {
      box.querySelectorAll("[data-field]").forEach((el) => {
        const value = data[el.dataset.field];
        if (value !== undefined) el.textContent = String(value);
      });
      if (bar) {
        bar.max = Math.max(data.total, 1);
        bar.value = data.settled;
        bar.textContent = data.settled + " / " + data.total;
      }
      return data.status === "sending";
    }
    function tick() {
      getJSON(box.dataset.url)
        .then((data) => { if (show(data)) setTimeout(tick, POLL_MS); })
        .catch(() => setTimeout(tick, POLL_MS * 3));
    }
    setTimeout(tick, POLL_MS);
  }

  function drawReach(el) {
    if (!window.echarts) return;
    const chart = window.echarts.init(el);
    const names = { delivered: "送达", forwarded: "转发", opened: "阅读", acknowledged: "回复收到" };
    getJSON(el.dataset.url).then((data) => {
      chart.setOption({
        tooltip: { trigger: "axis" },
        legend: { data: Object.values(names) },
        grid: { left: 40, right: 20, bottom: 40, top: 40 },
        xAxis: { type: "category", data: data.labels },
        yAxis: { type: "value", minInterval: 1 },
        series: Object.keys(names).map((key) => ({
          name: names[key], type: key === "delivered" ? "bar" : "line", data: data.series[key] || [],
        })),
      });
    });
    window.addEventListener("resize", () => chart.resize());
  }

  const progress = document.getElementById("adv-progress");
  if (progress) followProgress(progress);
  const chart = document.getElementById("adv-reach-chart");
  if (chart) drawReach(chart);
})();
