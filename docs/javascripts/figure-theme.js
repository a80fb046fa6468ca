// Plotly figures follow the page's colour scheme. Plotly paints its own backgrounds and text (white
// paper, a blue-grey plot, dark text), which in Material's dark (slate) scheme left white slabs on a
// dark page. Each figure gets a transparent paper and the scheme's plot, text and grid colours once
// it is drawn, and again whenever the reader toggles the scheme. tests/test_browser.py checks both.
(function () {
  "use strict";

  var COLOURS = {
    default: { plot: "#e5ecf6", text: "#2a3f5f", grid: "#ffffff" }, // Plotly's own light template
    slate: { plot: "#262b38", text: "#d5d9e3", grid: "#414859" },
  };

  function schemeColours() {
    var slate = document.body.getAttribute("data-md-color-scheme") === "slate";
    return slate ? COLOURS.slate : COLOURS.default;
  }

  function theme(figure) {
    if (!figure.layout) {
      return; // not drawn yet: its plotly_afterplot brings it back here
    }
    var colours = schemeColours();
    if (figure.dataset.miCourseTheme === colours.text) {
      return;
    }
    figure.dataset.miCourseTheme = colours.text;
    var update = { paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: colours.plot, "font.color": colours.text };
    Object.keys(figure.layout).forEach(function (key) {
      if (/^[xy]axis\d*$/.test(key)) {
        update[key + ".gridcolor"] = colours.grid;
        update[key + ".zerolinecolor"] = colours.grid;
      }
    });
    window.Plotly.relayout(figure, update);
  }

  function themeAll() {
    if (!window.Plotly) {
      return; // a page without figures loads no Plotly
    }
    document.querySelectorAll(".js-plotly-plot").forEach(function (figure) {
      theme(figure);
      if (!figure.miCourseThemed) {
        figure.miCourseThemed = true;
        figure.on("plotly_afterplot", function () {
          theme(figure);
        });
      }
    });
  }

  new MutationObserver(themeAll).observe(document.body, {
    attributes: true,
    attributeFilter: ["data-md-color-scheme"],
  });
  if (document.readyState === "complete") {
    themeAll();
  } else {
    window.addEventListener("load", themeAll);
  }
})();
