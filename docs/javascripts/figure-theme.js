// Plotly figures follow the page's colour scheme. Plotly paints its own backgrounds and text (white
// paper, a blue-grey plot, dark text), which in Material's dark (slate) scheme left white slabs on a
// dark page. Each figure gets a transparent paper and the scheme's plot, text and grid colours once
// it is drawn, and again whenever the reader toggles the scheme; on a phone, a long title is broken
// in two rather than cut off, and x tick labels too many for the width stand upright instead of
// overlapping. tests/test_browser.py checks all four.
(function () {
  "use strict";

  var NARROW_PX = 600; // a figure narrower than this (a phone) gets its long title on two lines
  var NARROW_TITLE_CHARACTERS = 40;
  var FLAT_LABEL_PX = 24; // an x tick label lies flat in a column at least this wide, and as wide as its text ...
  var CHARACTER_PX = 7; // (about one character of a 12 px tick label)
  var UPRIGHT_LABEL_PX = 14; // ... and standing upright needs this much
  var COLOURS = {
    default: { plot: "#e5ecf6", text: "#2a3f5f", grid: "#ffffff" }, // Plotly's own light template
    slate: { plot: "#262b38", text: "#d5d9e3", grid: "#414859" },
  };

  function schemeColours() {
    var slate = document.body.getAttribute("data-md-color-scheme") === "slate";
    return slate ? COLOURS.slate : COLOURS.default;
  }

  // A title wider than a narrow figure is cut off (Plotly does not wrap titles): break it in two.
  function fittedTitle(title, narrow) {
    if (!narrow || title.length <= NARROW_TITLE_CHARACTERS) {
      return title;
    }
    var middle = Math.floor(title.length / 2);
    var before = title.lastIndexOf(" ", middle);
    var after = title.indexOf(" ", middle);
    var at = before < 0 || (after >= 0 && after - middle < middle - before) ? after : before;
    return at < 0 ? title : title.slice(0, at) + "<br>" + title.slice(at + 1);
  }

  // Labels written one per column (a token, a position) overlap once a column is narrower than a
  // label: on a phone they stand upright, and if even that is too tight, every second (or third) one
  // is shown; the hover still names each column. Wide again, the figure gets its labels back.
  function upright(figure, key) {
    var axis = figure.layout[key];
    if (axis.tickmode !== "array" || !axis.ticktext) {
      return {};
    }
    var data = figure.dataset;
    if (data.miCourseTicks === undefined) {
      data.miCourseTicks = JSON.stringify({ angle: axis.tickangle, text: axis.ticktext });
    }
    var original = JSON.parse(data.miCourseTicks);
    var plotWidth = figure._fullLayout ? figure._fullLayout._size.w : figure.clientWidth;
    var column = plotWidth / original.text.length;
    var longest = Math.max.apply(null, original.text.map(function (text) { return String(text).length; }));
    var update = {};
    if (column >= Math.max(FLAT_LABEL_PX, longest * CHARACTER_PX + 6)) {
      update[key + ".tickangle"] = original.angle === undefined ? "auto" : original.angle;
      update[key + ".ticktext"] = original.text;
      return update;
    }
    var every = Math.ceil(UPRIGHT_LABEL_PX / column);
    update[key + ".tickangle"] = -90;
    update[key + ".ticktext"] = original.text.map(function (text, index) {
      return index % every === 0 ? text : "";
    });
    return update;
  }

  function theme(figure) {
    if (!figure.layout) {
      return; // not drawn yet: its plotly_afterplot brings it back here
    }
    var colours = schemeColours();
    var narrow = figure.clientWidth < NARROW_PX;
    var state = colours.text + (narrow ? " narrow" : "");
    if (figure.dataset.miCourseTheme === state) {
      return;
    }
    figure.dataset.miCourseTheme = state;
    if (figure.dataset.miCourseTitle === undefined) {
      figure.dataset.miCourseTitle = (figure.layout.title && figure.layout.title.text) || "";
    }
    var update = {
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: colours.plot,
      "font.color": colours.text,
      "title.text": fittedTitle(figure.dataset.miCourseTitle, narrow),
    };
    Object.keys(figure.layout).forEach(function (key) {
      if (/^[xy]axis\d*$/.test(key)) {
        update[key + ".gridcolor"] = colours.grid;
        update[key + ".zerolinecolor"] = colours.grid;
      }
      if (/^xaxis\d*$/.test(key)) {
        Object.assign(update, upright(figure, key));
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
