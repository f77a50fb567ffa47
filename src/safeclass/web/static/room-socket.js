// @ts-check
/**
 * The room's socket, opened as the page starts: the pupil's page loads this small module with
 * `async`, so it runs as soon as it arrives, before the page has been read to the end and long
 * before the page's own modules (`pupil.js` and what it imports) have all arrived and run. The
 * server's `welcome` and first view are then on their way while the rest loads, instead of
 * being asked for afterwards.
 *
 * It only opens the socket and keeps what comes (messages, a close) in order; `RoomClient`
 * (`room-client.js`) takes the socket over the first time it connects (`takeEarlySocket`) and
 * reads what was kept as if it had just arrived. Nothing is sent from here: the page says
 * nothing to the room until its own module does. The address is the room client's, built from
 * this page's address (`/room/{session}` → `/ws/sessions/{session}`); on any other page, or in
 * a browser with no WebSocket, it does nothing and the room client opens its own socket.
 */

/**
 * @typedef {{
 *   url: string,
 *   ws: WebSocket,
 *   events: (MessageEvent | CloseEvent)[],
 *   release: () => void,
 * }} EarlySocket
 */

const KEY = "__safeclassEarlySocket";

/**
 * The room socket's address for a page at `href` (`/room/{session}`), or "" for another page.
 * @param {string} href
 * @returns {string}
 */
export function earlySocketUrl(href) {
  const page = new URL(href);
  const match = /^\/room\/([^/]+)$/.exec(page.pathname);
  if (!match) {
    return "";
  }
  const url = new URL(`/ws/sessions/${match[1]}`, page);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

/**
 * Open the room's socket for this page now, keeping what comes until it is taken.
 * @param {any} scope the global object
 */
function openEarly(scope) {
  const url = scope.location && scope.WebSocket ? earlySocketUrl(scope.location.href) : "";
  if (!url || KEY in scope) {
    return; // once per page: taken or not, never a second socket
  }
  const ws = new scope.WebSocket(url);
  /** @type {(MessageEvent | CloseEvent)[]} */
  const events = [];
  /** @param {MessageEvent | CloseEvent} event */
  const keep = (event) => events.push(event);
  ws.addEventListener("message", keep);
  ws.addEventListener("close", keep);
  /** @type {EarlySocket} */
  const early = {
    url,
    ws,
    events,
    release: () => {
      ws.removeEventListener("message", keep);
      ws.removeEventListener("close", keep);
    },
  };
  scope[KEY] = early;
}

/**
 * The socket this page opened early for `url`, once (then it is the caller's), or null.
 * @param {string} url
 * @param {any} [scope]
 * @returns {EarlySocket | null}
 */
export function takeEarlySocket(url, scope = globalThis) {
  const early = /** @type {EarlySocket | undefined} */ (scope[KEY]);
  if (!early || early.url !== url) {
    return null;
  }
  scope[KEY] = null; // taken: never again, and never opened again
  early.release();
  return early;
}

openEarly(globalThis);
