// Success-criteria checklists (docs/.hooks/progress.py): ticks kept in localStorage, counted per list and in all.
(function () {
  "use strict";

  const STORAGE_KEY = "mi-course-progress";
  const BOXES = "input[data-progress-key]";

  function loadTicks() {
    try {
      return JSON.parse(window.localStorage.getItem(STORAGE_KEY)) || {};
    } catch (error) {
      return {}; // storage blocked or corrupted: start with nothing ticked
    }
  }

  function count(boxes) {
    const ticked = boxes.filter(function (box) { return box.checked; }).length;
    return ticked + " of " + boxes.length + " criteria ticked";
  }

  function render() {
    const ticks = loadTicks();
    const boxes = Array.from(document.querySelectorAll(BOXES));
    boxes.forEach(function (box) { box.checked = ticks[box.dataset.progressKey] === true; });
    document.querySelectorAll(".progress").forEach(function (list) {
      list.querySelector(".progress-summary").textContent = count(Array.from(list.querySelectorAll(BOXES)));
    });
    document.querySelectorAll(".progress-total").forEach(function (total) {
      total.textContent = "All steps: " + count(boxes);
    });
  }

  document.addEventListener("change", function (event) {
    if (!event.target.matches(BOXES)) {
      return;
    }
    const ticks = loadTicks();
    ticks[event.target.dataset.progressKey] = event.target.checked;
    window.localStorage.setItem(STORAGE_KEY, JSON.stringify(ticks));
    render();
  });
  window.addEventListener("storage", render); // ticked in another tab
  if (window.document$) {
    window.document$.subscribe(render); // Material's page-loaded signal, instant navigation included
  } else {
    document.addEventListener("DOMContentLoaded", render);
  }
})();
