// @ts-check
/**
 * The console's session log (C15, CRO-09, CRO-10): a behaviour note, a reward or a note about
 * one pupil, or an incident about the lesson, written into the session's record with the
 * protocol's `note` message. Pupils never see notes (the room sends them to staff only); the
 * member of staff sees each one confirmed here once the room has it on record.
 *
 * The form is keyboard-first: opening it moves focus to its first field, Escape closes it and
 * gives focus back, and the confirmation takes focus so a screen reader reads it. Words come from
 * the page's `#words` data block, like the rest of the console's.
 */

import { el, say } from "./room-page.js";

/** @typedef {(type: string, fields: Record<string, any>, problemId: string) => Promise<boolean>} Act */

/**
 * Wire the session-log part of the console.
 * @param {Record<string, any>} words
 * @param {Act} act
 */
export function sessionNotes(words, act) {
  const doc = document;
  const form = /** @type {HTMLFormElement} */ (el("note-form"));
  const pupil = /** @type {HTMLSelectElement} */ (el("note-pupil"));
  const text = /** @type {HTMLTextAreaElement} */ (el("note-text"));
  /** @type {HTMLElement | null} where focus goes back to when the form closes */
  let opener = null;

  /** @returns {string} */
  function kind() {
    const chosen = /** @type {HTMLInputElement | null} */ (form.querySelector('input[name="note-kind"]:checked'));
    return chosen ? chosen.value : "note";
  }

  /**
   * Open the form, for one pupil (or none) and one kind.
   * @param {string} pupilId
   * @param {string} noteKind
   * @param {HTMLElement | null} from
   */
  function open(pupilId, noteKind, from) {
    opener = from;
    el("note-saved").hidden = true;
    say("note-problem", "");
    form.hidden = false;
    pupil.value = [...pupil.options].some((o) => o.value === pupilId) ? pupilId : "";
    const radio = /** @type {HTMLInputElement | null} */ (form.querySelector(`input[name="note-kind"][value="${noteKind}"]`));
    if (radio) {
      radio.checked = true;
    }
    (pupilId ? text : pupil).focus();
  }

  function close() {
    form.hidden = true;
    el("note-error").hidden = true;
    el("note-text-field").classList.remove("field-error");
    (opener && opener.isConnected ? opener : el("notes-heading")).focus();
  }

  el("note-open").addEventListener("click", () => open("", "reward", el("note-open")));
  el("incident-open").addEventListener("click", () => open("", "incident", el("incident-open")));
  el("note-cancel").addEventListener("click", close);
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const written = text.value.trim();
    if (!written) {
      el("note-error").hidden = false;
      el("note-text-field").classList.add("field-error");
      text.focus();
      return;
    }
    const chosenKind = kind();
    /** @type {Record<string, string>} */
    const fields = { kind: chosenKind, text: written };
    const about = pupil.value;
    if (about) {
      fields.pupil = about;
    }
    if (await act("note", fields, "note-problem")) {
      const name = about ? pupil.options[pupil.selectedIndex].text : "";
      /** @type {string} */
      const template = words[about ? `note_saved_${chosenKind}_about` : `note_saved_${chosenKind}`] || words.note_saved_note;
      text.value = "";
      form.hidden = true;
      el("note-error").hidden = true;
      el("note-text-field").classList.remove("field-error");
      const saved = el("note-saved");
      saved.textContent = template.replace("{name}", name);
      saved.hidden = false;
      saved.focus();
    }
  });

  return {
    /**
     * Keep the pupil list as the class list, and the part shown only where notes may be written.
     * @param {any} view
     */
    render(view) {
      el("notes-part").hidden = el("notes-part").hidden || !view.can.includes("note");
      const wanted = [["", words.no_pupil], ...view.expected.map((/** @type {any} */ p) => [p.id, p.name])];
      const have = [...pupil.options].map((option) => [option.value, option.text]);
      if (JSON.stringify(have) !== JSON.stringify(wanted)) {
        const chosen = pupil.value;
        pupil.replaceChildren(
          ...wanted.map(([value, label]) => {
            const option = doc.createElement("option");
            option.value = value;
            option.textContent = label;
            return option;
          }),
        );
        pupil.value = wanted.some(([value]) => value === chosen) ? chosen : "";
      }
    },
    open,
  };
}
