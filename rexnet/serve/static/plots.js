// Draws every figure of the page: a div[data-figure] names the <script type="application/json">
// holding its {data, layout}; plotly.min.js is served by the explorer itself (no CDN).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("div[data-figure]").forEach(function (div) {
    var source = document.getElementById(div.dataset.figure);
    if (!source || typeof Plotly === "undefined") { return; }
    var fig = JSON.parse(source.textContent);
    Plotly.newPlot(div, fig.data, fig.layout, { responsive: true, displaylogo: false });
  });
});
