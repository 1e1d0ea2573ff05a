// Draws the insights pages' charts with plotly.js, which the bot serves itself: the series come
// from the page (a JSON script element), and nothing is fetched from anywhere else.
(function () {
  "use strict";

  var COLOURS = {
    issues: "#0969da",
    pulls: "#8250df",
    merged: "#1f883d",
    comments: "#bf8700",
    newcomers: "#4ac26b",
    returned: "#0969da",
    reminders: "#d4a72c",
    locks: "#cf222e",
  };
  var FONT = { family: 'system-ui, -apple-system, "Segoe UI", sans-serif', size: 13, color: "#1f2328" };
  var AXIS = { gridcolor: "#eef1f4", linecolor: "#d1d9e0", zeroline: false, automargin: true, fixedrange: true };

  // A count axis: whole numbers only, one tick per unit while the counts are small.
  function countAxis(series, extra) {
    var largest = Math.max.apply(null, [].concat.apply([0], series).filter(function (v) { return v !== null; }));
    var axis = Object.assign({}, AXIS, { rangemode: "tozero", tickformat: "d" });
    if (largest <= 5) {
      axis.dtick = 1;
      axis.range = [0, Math.max(largest, 1) + 0.5];
    }
    return Object.assign(axis, extra || {});
  }

  // A second scale on the right, with ticks of its own (not lined up with the left one's grid).
  function rightAxis(extra) {
    return Object.assign({}, AXIS, { overlaying: "y", side: "right", showgrid: false, tickmode: "auto", nticks: 6 }, extra);
  }

  function layout(extra) {
    return Object.assign({
      font: FONT,
      margin: { l: 40, r: 16, t: 36, b: 8 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      barmode: "group",
      bargap: 0.3,
      bargroupgap: 0.08,
      hovermode: "x unified",
      hoverlabel: { font: FONT },
      legend: { orientation: "h", x: 0, xanchor: "left", y: 1, yanchor: "bottom", font: { size: 12 } },
      xaxis: Object.assign({}, AXIS, { type: "category", tickangle: 0 }),
    }, extra);
  }

  function bars(name, x, y, colour, extra) {
    return Object.assign({ type: "bar", name: name, x: x, y: y, marker: { color: colour } }, extra || {});
  }

  function line(name, x, y, colour, extra) {
    return Object.assign({
      type: "scatter", mode: "lines+markers", name: name, x: x, y: y, yaxis: "y2",
      line: { color: colour, width: 2.5 }, marker: { size: 7, color: colour },
    }, extra || {});
  }

  var DRAW = {
    activity: function (c) {
      return {
        traces: [
          bars("Issues opened", c.months, c.issues_opened, COLOURS.issues),
          bars("Pull requests opened", c.months, c.pulls_opened, COLOURS.pulls),
          bars("Merged", c.months, c.merged, COLOURS.merged),
          line("Comments and reviews", c.months, c.comments, COLOURS.comments),
        ],
        layout: layout({
          margin: { l: 40, r: 48, t: 36, b: 8 },
          yaxis: countAxis([c.issues_opened, c.pulls_opened, c.merged]),
          yaxis2: rightAxis({ rangemode: "tozero", tickformat: "d" }),
        }),
      };
    },
    newcomers: function (c) {
      var rates = c.return_rate.map(function (rate) { return rate === null ? null : Math.round(rate * 100); });
      // The share who came back is final once 90 days have passed since the month's end; until
      // then it can only grow, and the line says so by turning dotted (joined to the last final one).
      var final = rates.map(function (rate, i) { return c.complete[i] ? rate : null; });
      var counting = rates.map(function (rate, i) {
        return !c.complete[i] || (i + 1 < rates.length && !c.complete[i + 1]) ? rate : null;
      });
      var hover = "%{y} % came back<extra></extra>";
      var traces = [
        bars("New contributors", c.months, c.count, COLOURS.newcomers, {
          customdata: c.returned, hovertemplate: "%{y} new, %{customdata} came back<extra></extra>",
        }),
      ];
      if (final.some(function (v) { return v !== null; })) {
        traces.push(line("Came back", c.months, final, COLOURS.returned, { hovertemplate: hover }));
      }
      if (c.complete.some(function (done) { return !done; })) {
        traces.push(line("Came back (still counting)", c.months, counting, COLOURS.returned, {
          line: { color: COLOURS.returned, width: 2.5, dash: "dot" }, hovertemplate: hover,
        }));
      }
      return {
        traces: traces,
        layout: layout({
          margin: { l: 40, r: 48, t: 36, b: 8 },
          yaxis: countAxis([c.count]),
          yaxis2: rightAxis({
            range: [0, 105], tickmode: "array", tickvals: [0, 25, 50, 75, 100],
            ticktext: ["0 %", "25 %", "50 %", "75 %", "100 %"],
          }),
        }),
      };
    },
    heated: function (c) {
      return {
        traces: [
          bars("Reminders", c.months, c.reminders, COLOURS.reminders),
          bars("Locked", c.months, c.locks, COLOURS.locks),
        ],
        layout: layout({ yaxis: countAxis([c.reminders, c.locks]) }),
      };
    },
    first_response: function (c) {
      return {
        traces: [
          bars("Issues", c.labels, c.issues, COLOURS.issues),
          bars("Pull requests", c.labels, c.pulls, COLOURS.pulls),
        ],
        layout: layout({ yaxis: countAxis([c.issues, c.pulls]) }),
      };
    },
  };

  var charts = JSON.parse(document.getElementById("insights-charts").textContent);
  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var chart = charts[element.id];
    var drawn = DRAW[chart.kind](chart);
    Plotly.newPlot(element, drawn.traces, drawn.layout, { displayModeBar: false, responsive: true });
  });
})();
