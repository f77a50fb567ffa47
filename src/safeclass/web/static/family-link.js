// @ts-check
/**
 * The family's link page: "Copy link" puts the link on the clipboard, "Print the letter" opens
 * the browser's print (the print style shows the letter alone). Both buttons stay hidden until
 * this module runs, so a page without it offers only what works: select the link by hand.
 * The words are the page's own (data-done, data-failed): this module holds none.
 */

/** @param {HTMLElement} status @param {string} words */
function say(status, words) {
  status.textContent = "";
  // a fresh text node, so a screen reader announces the same words a second time too
  window.setTimeout(() => {
    status.textContent = words;
  }, 50);
}

/**
 * Copy the named field's value; fall back to selecting it and the old copy command.
 * @param {HTMLInputElement} field
 * @returns {Promise<boolean>}
 */
async function copyField(field) {
  try {
    await navigator.clipboard.writeText(field.value);
    return true;
  } catch {
    field.focus();
    field.select();
    return document.execCommand("copy");
  }
}

/** @param {Document} doc */
export function wireUp(doc = document) {
  const status = /** @type {HTMLElement} */ (doc.getElementById("copy-status"));
  for (const button of doc.querySelectorAll("button[data-copy]")) {
    const copy = /** @type {HTMLButtonElement} */ (button);
    const field = /** @type {HTMLInputElement | null} */ (
      doc.getElementById(copy.dataset.copy || "")
    );
    if (!field) {
      continue;
    }
    copy.hidden = false;
    copy.addEventListener("click", async () => {
      const done = await copyField(field);
      say(status, (done ? copy.dataset.done : copy.dataset.failed) || "");
    });
  }
  for (const button of doc.querySelectorAll("button[data-print]")) {
    const print = /** @type {HTMLButtonElement} */ (button);
    print.hidden = false;
    print.addEventListener("click", () => window.print());
  }
  for (const field of doc.querySelectorAll("input.link")) {
    // one click selects the whole link, for copying by hand
    field.addEventListener("focus", () => /** @type {HTMLInputElement} */ (field).select());
  }
}

wireUp();
