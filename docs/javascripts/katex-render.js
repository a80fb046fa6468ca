// Draws the maths of a page with the vendored KaTeX (docs/javascripts/katex/, MIT licence beside it).
// pymdownx.arithmatex, in generic mode, leaves each formula as its TeX source: inline ones in
// <span class="arithmatex">\( ... \)</span>, displayed ones in <div class="arithmatex">\[ ... \]</div>.
// Material calls document$ once a page is shown (and again after each instant navigation, if that is
// ever turned on), so the formulas are drawn whichever way the reader arrived.
(function () {
  "use strict";

  function renderMaths(root) {
    root.querySelectorAll(".arithmatex").forEach(function (element) {
      var source = element.textContent.trim();
      var display = source.startsWith("\\[");
      var tex = source.replace(/^\\[([]/, "").replace(/\\[)\]]$/, "");
      try {
        katex.render(tex, element, { displayMode: display, throwOnError: true });
      } catch (error) {
        // A console error fails the browser tests, which name the page: a formula never fails silently.
        console.error("KaTeX could not draw " + source + ": " + error.message);
      }
    });
  }

  if (typeof document$ !== "undefined") {
    document$.subscribe(function () {
      renderMaths(document);
    });
  } else {
    document.addEventListener("DOMContentLoaded", function () {
      renderMaths(document);
    });
  }
})();
