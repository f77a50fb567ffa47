// @ts-check
/**
 * The live room's protocol client (docs/protocol.md), with no page in it.
 *
 * One `RoomClient` holds one WebSocket to `/ws/sessions/{id}` (same origin: the browser's
 * cookie authenticates it). It keeps the latest view and `seq`, answers the server's pings,
 * matches each reply to its request by `id`, and reconnects with backoff after a dropped
 * connection, but never after a close that means stop (ended, opened elsewhere, removed,
 * turned away, signed out, policy). Reconnecting, it says the last `seq` it saw (`?since=`), so
 * the first `state` brings the events it missed (chat lines, notices), each reported once as
 * if it had been there. The staff console and the pupil's page render what it
 * reports; a test drives it with no page at all (the WebSocket and the timers can be passed in).
 *
 * It holds no words of its own: every close is reported as a reason code (`CLOSE_REASONS`)
 * for the page to translate, beside whatever the server said. It never touches an
 * RTCPeerConnection: the video helpers only carry the SDP and ICE the page hands it.
 */

/** The protocol version this client speaks. */
export const PROTOCOL_VERSION = 1;

/**
 * Close codes after which the client stops, and the reason code the page translates.
 * @type {Readonly<Record<number, string>>}
 */
export const STOP_CODES = Object.freeze({
  4000: "ended",
  4001: "opened_elsewhere",
  4003: "removed",
  4004: "denied",
  4009: "signed_out",
  1008: "policy",
});

/**
 * Close codes after which the client reconnects, and their reason codes. Any other close of a
 * connection that had opened is `dropped`; one that never opened is `unreachable` (a refused
 * handshake, 403, looks the same to a browser as a server that is not there).
 * @type {Readonly<Record<number, string>>}
 */
export const RETRY_CODES = Object.freeze({
  1003: "not_text",
  1009: "too_large",
  // a worker of a cluster restarting, or the room moving to another worker (docs/cluster.md)
  1012: "restarting",
  4008: "no_heartbeat",
});

/** Every reason code a `closed` report can carry. */
export const CLOSE_REASONS = Object.freeze([
  ...Object.values(STOP_CODES),
  ...Object.values(RETRY_CODES),
  "dropped",
  "unreachable",
  "gave_up",
  "closed_by_page",
]);

/**
 * @typedef {{type: string, id?: string, [field: string]: any}} Message
 * A message of the protocol: a `type`, an optional `id`, and its fields.
 *
 * @typedef {{state: string, message: string}} MediaState
 * The room's video: `on`, `off` or `reconnecting`, with the server's words.
 *
 * @typedef {{
 *   code: number,
 *   reason: string,
 *   message: string,
 *   reconnecting: boolean,
 *   delayMs: number,
 * }} ClosedReport
 * `reason` is one of `CLOSE_REASONS`; `message` is what the server said (may be empty);
 * `delayMs` is how long until the next try (0 when not reconnecting).
 *
 * @typedef {{
 *   WebSocket?: {new (url: string): WebSocket},
 *   setTimeout?: (fn: () => void, ms: number) => any,
 *   clearTimeout?: (handle: any) => void,
 *   random?: () => number,
 *   base?: string,
 *   replyTimeoutMs?: number,
 *   backoffMs?: number[],
 *   maxAttempts?: number,
 *   rejoin?: boolean,
 * }} Options
 * `base`: the page's address (default `location.href`), the socket's is built from it.
 * `backoffMs`: the waits before each try after a drop (the last one repeats, ±20% jitter).
 * `maxAttempts`: tries in a row that never open before giving up (default: never give up).
 * `rejoin`: after reconnecting, send `join` again with the fields of the last accepted one
 * (default true: a reload of the connection should not leave a teacher outside the room).
 */

/**
 * @typedef {{resolve: (m: Message) => void, reject: (e: RoomRefusal) => void, timer: any}} Pending
 */

/**
 * A reply that was not `ok`: `refused` (a rule forbids it; `clause` says which) or `error`
 * (not valid, not saved, rate limited, video unavailable; and from this client, `timeout`,
 * `not_connected`, and `disconnected` with the server's words as it closed, if any).
 * `message` is the server's words, for the person who acted.
 */
export class RoomRefusal extends Error {
  /** @param {Message} reply */
  constructor(reply) {
    super(String(reply.message || reply.code || reply.type));
    this.name = "RoomRefusal";
    /** `refused` or `error`. */
    this.kind = reply.type;
    /** @type {string} */
    this.code = String(reply.code || "");
    /** @type {string} */
    this.clause = String(reply.clause || "");
    /** The reply as the server sent it (or as this client made it). */
    this.reply = reply;
  }
}

/** Replies that settle a request; anything else with an `id` is ignored. */
const SETTLES = new Set(["ok", "refused", "error", "media_answer", "media_offer", "pong"]);
const DEFAULT_BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];

/**
 * The protocol client. Listen with `on(name, fn)`:
 * - `welcome` (the message), `state` ({view, seq, now, media, events}), `event` (each event),
 * - `media_state`, `notice`, `refused` (every refused reply, also the ones `send` rejects),
 * - `error` (an error reply nobody waits for), `media_offer` (pushed, without an `id`),
 *   `trickle`, `media_restart`, `media_notice`, `message` (every message, raw),
 * - `open` (welcome received), `closed` (a `ClosedReport`).
 */
export class RoomClient {
  /**
   * @param {string} sessionId
   * @param {Options} [options]
   */
  constructor(sessionId, options = {}) {
    this.sessionId = sessionId;
    this._WebSocket = options.WebSocket || globalThis.WebSocket;
    this._setTimeout = options.setTimeout || ((fn, ms) => globalThis.setTimeout(fn, ms));
    this._clearTimeout = options.clearTimeout || ((handle) => globalThis.clearTimeout(handle));
    this._random = options.random || Math.random;
    this._replyTimeoutMs = options.replyTimeoutMs ?? 15000;
    this._backoffMs = options.backoffMs || DEFAULT_BACKOFF_MS;
    this._maxAttempts = options.maxAttempts ?? Infinity;
    this._rejoin = options.rejoin ?? true;
    const base = options.base || (globalThis.location ? globalThis.location.href : "");
    const url = new URL(`/ws/sessions/${encodeURIComponent(sessionId)}`, base);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    /** The socket's address. */
    this.url = url.href;

    /** @type {Message | null} the last `welcome`: who I am (`you`, `role`, `name`). */
    this.welcome = null;
    /** @type {any} my latest view of the room (docs/protocol.md, Views). */
    this.view = null;
    /** The `seq` of the latest view (-1 before the first): a reconnection resumes from it. */
    this.seq = -1;
    /** The `seq` up to which the events have been reported, so none is reported twice. */
    this._eventsSeq = -1;
    /** @type {string | null} the server's time with the latest view. */
    this.now = null;
    /** @type {MediaState | null} */
    this.media = null;
    /** True between a `welcome` and the socket closing. */
    this.connected = false;
    /** @type {ClosedReport | null} set once the client has stopped for good. */
    this.stopped = null;

    /** @type {Map<string, Set<(payload: any) => void>>} */
    this._listeners = new Map();
    /** @type {Map<string, Pending>} requests waiting for their reply, by `id` */
    this._pending = new Map();
    /** @type {WebSocket | null} */
    this._ws = null;
    this._counter = 0;
    this._failures = 0; // tries in a row that never opened
    this._drops = 0; // drops since the last welcome, for the backoff
    /** @type {any} */
    this._retryTimer = null;
    /** @type {any} */
    this._watchdog = null;
    this._heartbeatMs = 0;
    /** @type {Record<string, any> | null} the fields of the last accepted join. */
    this._joined = null;
  }

  /**
   * Listen for one kind of report; returns a function that stops listening.
   * @param {string} name
   * @param {(payload: any) => void} fn
   * @returns {() => void}
   */
  on(name, fn) {
    let set = this._listeners.get(name);
    if (!set) {
      set = new Set();
      this._listeners.set(name, set);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  /**
   * @param {string} name
   * @param {any} payload
   */
  _emit(name, payload) {
    for (const fn of [...(this._listeners.get(name) || [])]) {
      try {
        fn(payload);
      } catch (problem) {
        // a page's listener must not stop the others, nor the client
        globalThis.queueMicrotask(() => {
          throw problem;
        });
      }
    }
  }

  /** Open the socket (again, after `close`). */
  connect() {
    this.stopped = null;
    this._failures = 0;
    this._drops = 0;
    this._open();
  }

  _open() {
    this._retryTimer = null;
    // back after a drop: the server sends what happened since the latest view (docs/protocol.md)
    const ws = new this._WebSocket(this.seq >= 0 ? `${this.url}?since=${this.seq}` : this.url);
    this._ws = ws;
    let opened = false;
    ws.onmessage = (event) => {
      if (this._ws !== ws) {
        return;
      }
      /** @type {Message} */
      let message;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return; // the server sends only JSON; anything else is not ours to read
      }
      if (message.type === "welcome") {
        opened = true;
      }
      this._receive(message);
    };
    ws.onclose = (event) => {
      if (this._ws !== ws) {
        return;
      }
      this._closed(event.code, event.reason || "", opened);
    };
  }

  /** @param {Message} message */
  _receive(message) {
    this._feedWatchdog();
    this._emit("message", message);
    switch (message.type) {
      case "welcome":
        this._welcomed(message);
        return;
      case "state": {
        this.view = message.view;
        this.seq = message.seq;
        this.now = message.now ?? this.now;
        if (message.media) {
          this.media = message.media;
        }
        // events come with the state whose seq they reach, and that only grows: any at or
        // below one already reported were reported then
        /** @type {Message[]} */
        const events = message.seq > this._eventsSeq ? message.events || [] : [];
        if (events.length) {
          this._eventsSeq = message.seq;
        }
        this._emit("state", {
          view: message.view,
          seq: message.seq,
          now: message.now ?? null,
          media: this.media,
          events,
        });
        for (const event of events) {
          this._emit("event", event);
        }
        return;
      }
      case "ping":
        this._write({ type: "pong" });
        return;
      case "media_state":
        this.media = { state: message.state, message: message.message };
        this._emit("media_state", this.media);
        return;
      case "notice":
      case "trickle":
      case "media_restart":
      case "media_notice":
        this._emit(message.type, message);
        return;
    }
    const waiting = message.id !== undefined ? this._pending.get(message.id) : undefined;
    if (message.type === "refused") {
      this._emit("refused", message);
    }
    if (waiting && SETTLES.has(message.type)) {
      this._pending.delete(/** @type {string} */ (message.id));
      this._clearTimeout(waiting.timer);
      if (message.type === "refused" || message.type === "error") {
        waiting.reject(new RoomRefusal(message));
      } else {
        waiting.resolve(message);
      }
      return;
    }
    if (message.type === "media_offer") {
      this._emit("media_offer", message); // pushed: what I receive changed
    } else if (message.type === "error") {
      this._emit("error", message);
    }
  }

  /** @param {Message} message */
  _welcomed(message) {
    this.welcome = message;
    this.connected = true;
    this._failures = 0;
    this._drops = 0;
    if (message.media) {
      this.media = message.media;
    }
    this._heartbeatMs = Number(message.heartbeat_s || 0) * 1000;
    this._feedWatchdog();
    this._emit("welcome", message);
    this._emit("open", message);
    if (this._rejoin && this._joined) {
      // back after a drop: take my place again as the page last asked
      this.send("join", this._joined).catch(() => {}); // a refusal is reported as `refused`
    }
  }

  /** After three heartbeats without a word the connection is dead, whatever the socket says. */
  _feedWatchdog() {
    if (this._watchdog !== null) {
      this._clearTimeout(this._watchdog);
      this._watchdog = null;
    }
    if (this._heartbeatMs > 0 && this._ws) {
      const ws = this._ws;
      this._watchdog = this._setTimeout(() => {
        if (this._ws === ws) {
          this._ws = null;
          ws.close();
          this._closed(4008, "", true);
        }
      }, this._heartbeatMs * 3);
    }
  }

  /**
   * @param {number} code
   * @param {string} message
   * @param {boolean} opened
   */
  _closed(code, message, opened) {
    this._ws = null;
    this.connected = false;
    if (this._watchdog !== null) {
      this._clearTimeout(this._watchdog);
      this._watchdog = null;
    }
    this._failAll("disconnected", message);
    const stop = STOP_CODES[code];
    if (stop) {
      this._stop({ code, reason: stop, message, reconnecting: false, delayMs: 0 });
      return;
    }
    if (!opened) {
      this._failures += 1;
      if (this._failures >= this._maxAttempts) {
        this._stop({ code, reason: "gave_up", message, reconnecting: false, delayMs: 0 });
        return;
      }
    }
    const reason = RETRY_CODES[code] || (opened ? "dropped" : "unreachable");
    const steps = this._backoffMs;
    const base = steps[Math.min(this._drops, steps.length - 1)];
    const delayMs = Math.round(base * (0.8 + 0.4 * this._random()));
    this._drops += 1;
    this._retryTimer = this._setTimeout(() => this._open(), delayMs);
    this._emit("closed", { code, reason, message, reconnecting: true, delayMs });
  }

  /** @param {ClosedReport} report */
  _stop(report) {
    this.stopped = report;
    this._emit("closed", report);
  }

  /**
   * Reject every request still waiting: its socket is gone.
   * @param {string} code
   * @param {string} [message] what the server said as it closed, if anything
   */
  _failAll(code, message = "") {
    const waiting = [...this._pending.values()];
    this._pending.clear();
    for (const request of waiting) {
      this._clearTimeout(request.timer);
      request.reject(new RoomRefusal({ type: "error", code, message }));
    }
  }

  /**
   * Close the socket and stop reconnecting (the page is leaving; this is not `leave`).
   */
  close() {
    if (this._retryTimer !== null) {
      this._clearTimeout(this._retryTimer);
      this._retryTimer = null;
    }
    const ws = this._ws;
    this._ws = null;
    this.connected = false;
    this._failAll("disconnected");
    if (ws) {
      ws.close(1000);
    }
    if (!this.stopped) {
      const report = { code: 1000, reason: "closed_by_page", message: "", delayMs: 0 };
      this._stop({ ...report, reconnecting: false });
    }
  }

  /**
   * @param {Message} message
   * @returns {boolean} false when there is no open socket to write to
   */
  _write(message) {
    const ws = this._ws;
    if (!ws || !this.connected || ws.readyState !== 1) {
      return false;
    }
    ws.send(JSON.stringify(message));
    return true;
  }

  /**
   * Send a command and wait for its reply: resolves with the `ok` (or the media reply),
   * rejects with a `RoomRefusal` for a `refused` or `error` reply, a timeout, or a socket
   * that closed first.
   * @param {string} type
   * @param {Record<string, any>} [fields]
   * @returns {Promise<Message>}
   */
  send(type, fields = {}) {
    this._counter += 1;
    const id = `c${this._counter}`;
    return new Promise((resolve, reject) => {
      if (!this._write({ ...fields, type, id })) {
        reject(new RoomRefusal({ type: "error", id, code: "not_connected", message: "" }));
        return;
      }
      const timer = this._setTimeout(() => {
        if (this._pending.delete(id)) {
          reject(new RoomRefusal({ type: "error", id, code: "timeout", message: "" }));
        }
      }, this._replyTimeoutMs);
      this._pending.set(id, { resolve, reject, timer });
    }).then((reply) => {
      if (type === "join") {
        this._joined = { ...fields };
      } else if (type === "leave") {
        this._joined = null;
      }
      return /** @type {Message} */ (reply);
    });
  }

  /**
   * Send my camera and microphone: resolves with the `media_answer` (its `jsep`).
   * @param {{type: string, sdp?: string}} offer an `RTCSessionDescription`'s JSON
   */
  publish(offer) {
    return this.send("media_publish", { jsep: { type: offer.type, sdp: offer.sdp } });
  }

  /** Ask to receive: resolves with the `media_offer` (`jsep` may be null; `streams`). */
  subscribe() {
    return this.send("media_subscribe");
  }

  /**
   * Answer the latest `media_offer`: resolves with the `ok`.
   * @param {{type: string, sdp?: string}} jsep
   */
  answer(jsep) {
    return this.send("media_start", { jsep: { type: jsep.type, sdp: jsep.sdp } });
  }

  /**
   * Pass on one ICE candidate of my `publisher`, `subscriber` or (while I share one) `screen`
   * connection (`null`: no more). The server answers only when it fails (an `error` or
   * `refused` report); false when not connected.
   * @param {"publisher" | "subscriber" | "screen"} target
   * @param {RTCIceCandidateInit | null} candidate
   * @returns {boolean}
   */
  trickle(target, candidate) {
    return this._write({ type: "trickle", target, candidate });
  }

  /**
   * Share a screen (staff only): send the offer of a connection of its own that carries the
   * captured window or tab (and its sound, if any); resolves with the `media_answer` (its
   * `jsep`). Everyone else then receives it as a stream with `source: "screen"`, and the view's
   * `session.screen` names the sharer. Send its ICE candidates with `trickle("screen", ...)`.
   * Rejects with a `RoomRefusal`: `not_permitted` for a pupil, `rule` while another member of
   * staff shares or when video is off, `not_here` when not in the room.
   * @param {{type: string, sdp?: string}} offer an `RTCSessionDescription`'s JSON
   */
  shareScreen(offer) {
    return this.send("media_share", { jsep: { type: offer.type, sdp: offer.sdp } });
  }

  /**
   * End the room's screen share (mine, or another member of staff's): resolves with the `ok`.
   * The page closes its screen connection; closing it alone also ends the share.
   */
  stopSharing() {
    return this.send("media_share_stop");
  }
}
