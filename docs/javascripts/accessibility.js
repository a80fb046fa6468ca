// Names for the controls that CircuitsVis draws without one (axe-core: select-name, button-name):
// its direction menu, and the token buttons whose text is only whitespace (a space, a newline).
// CircuitsVis redraws with React, so each view is watched and named again after each redraw.
(() => {
  const WHITESPACE = { " ": "space", "\u00a0": "space", "\n": "newline", "\t": "tab" };
  const name = (view) => {
    view.querySelectorAll("select:not([aria-label])").forEach((select) => {
      select.setAttribute("aria-label", "Direction of the attention shown");
    });
    view.querySelectorAll("button:not([aria-label])").forEach((button) => {
      const text = button.textContent;
      if (!text.trim()) {
        button.setAttribute("aria-label", "token: " + [...text].map((c) => WHITESPACE[c] || "whitespace").join(" "));
      }
    });
  };
  document.querySelectorAll(".mi-course-circuitsvis").forEach((view) => {
    name(view);
    new MutationObserver(() => name(view)).observe(view, { childList: true, subtree: true });
  });
})();
