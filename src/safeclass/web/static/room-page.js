// @ts-check
/**
 * What the room's two pages (the pupil's page and the staff console) share: their words, the
 * elements they fill, and sending a command with the room's refusal shown beside it.
 *
 * The pages have no words of their own: the server writes them, in the page's language, into
 * the page's `#words` data block (a JSON script that never runs, so the policy stays strict).
 */

/** @typedef {import("./room-client.js").RoomClient} RoomClient */

/**
 * The page's words, from its `#words` data block.
 * @returns {Record<string, any>}
 */
export function pageWords() {
  const block = /** @type {HTMLElement} */ (document.getElementById("words"));
  return JSON.parse(block.textContent || "{}");
}

/** @param {string} id */
export function el(id) {
  return /** @type {HTMLElement} */ (document.getElementById(id));
}

/**
 * Show `text` in the element `id` (hidden when empty).
 * @param {string} id
 * @param {string} text
 */
export function say(id, text) {
  const target = el(id);
  target.textContent = text;
  target.hidden = !text;
}

// Refusals the client makes itself (no answer, no connection): the page says "try again".
const OWN_CODES = ["timeout", "not_connected", "disconnected", "bad_message"];

/**
 * Send a command; on a refusal show the room's reason (or `tryAgain`) in `problemId`.
 * @param {RoomClient} room
 * @param {string} type
 * @param {Record<string, any>} fields
 * @param {string} problemId
 * @param {string} tryAgain
 * @returns {Promise<boolean>} whether the room carried it out
 */
export async function act(room, type, fields, problemId, tryAgain) {
  say(problemId, "");
  try {
    await room.send(type, fields);
    return true;
  } catch (error) {
    const refusal = /** @type {any} */ (error);
    const own = OWN_CODES.includes(refusal.code);
    say(problemId, own || !refusal.message ? tryAgain : refusal.message);
    return false;
  }
}

/**
 * The chat's lines in `#chat-lines`, which both pages show: each message once (by its number,
 * so the history in a view and the same message as an event never show twice), the newest in
 * view.
 * @returns {(line: {number: number, name: string, text: string}) => void}
 */
export function chatLines() {
  /** @type {Set<number>} */
  const shown = new Set();
  return (line) => {
    if (shown.has(line.number)) {
      return;
    }
    shown.add(line.number);
    const item = document.createElement("li");
    const who = document.createElement("span");
    who.className = "name";
    who.textContent = `${line.name}: `;
    item.append(who, document.createTextNode(line.text));
    const list = el("chat-lines");
    list.append(item);
    list.scrollTop = list.scrollHeight; // the newest in view
  };
}
