/* Draws each dashboard chart from its JSON (see dashboard/charts.py). Colours differ in lightness as well as hue,
   and bars carry a border, so the charts still read printed in grayscale. Without JavaScript the tables show. */
(function () {
  "use strict";
  var PALETTE = ["#0b3c91", "#5b8def", "#b8cdf5", "#e07b00", "#f6c48a", "#3a3a3a", "#9a9a9a"];

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var round = spec.kind === "doughnut";
    var datasets = spec.series.map(function (series, index) {
      var colours = round ? spec.labels.map(function (_l, i) { return PALETTE[i % PALETTE.length]; })
                          : PALETTE[index % PALETTE.length];
      return { label: series.label, data: series.values, backgroundColor: colours, borderColor: "#1f1f1f",
               borderWidth: 1, fill: false, tension: 0.2 };
    });
    var stacked = spec.kind === "stacked";
    /* global Chart */
    new Chart(canvas, {
      type: stacked ? "bar" : spec.kind,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: spec.series.length > 1 || round } },
        scales: round ? {} : { x: { stacked: stacked }, y: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } } },
        layout: { padding: { left: 8 } }
      }
    });
    var table = canvas.closest("figure").querySelector("details.lt-chart-table");
    if (table) { table.open = false; }  /* the chart shows; the table stays one click away */
  }

  document.querySelectorAll("canvas[data-chart]").forEach(draw);
})();
