// @ts-check
/**
 * What every staff page does once loaded (an ES module: scripts come only from this server).
 * The pages work without it; it only moves focus to what changed, as GOV.UK pages do:
 * to an error summary, so a screen reader and a keyboard start there.
 */

/** Move focus to the first element marked `data-focus-on-load`, if any. */
export function focusWhatChanged(doc = document) {
  const target = /** @type {HTMLElement | null} */ (doc.querySelector("[data-focus-on-load]"));
  if (target) {
    target.focus();
  }
}

/**
 * A link in an error summary moves focus to its field (the browser would only scroll to it),
 * and scrolls so the field's label is seen too.
 * @param {Document} doc
 */
export function linkErrorsToFields(doc = document) {
  for (const link of doc.querySelectorAll(".error-summary a[href^='#']")) {
    link.addEventListener("click", (event) => {
      const id = (link.getAttribute("href") || "").slice(1);
      const input = doc.getElementById(id);
      if (!input) {
        return;
      }
      event.preventDefault();
      const label = doc.querySelector(`label[for="${CSS.escape(id)}"]`);
      (label || input).scrollIntoView();
      input.focus({ preventScroll: true });
    });
  }
}

focusWhatChanged();
linkErrorsToFields();
