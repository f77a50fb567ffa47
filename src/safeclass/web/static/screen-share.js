// @ts-check
/**
 * Sharing a screen from the staff console (docs/protocol.md, Screen sharing).
 *
 * The member of staff picks a window or tab (`getDisplayMedia`); it goes to the room on a
 * connection of its own (a third `RTCPeerConnection`, beside the camera's and the one that
 * receives), through the room client's `shareScreen` and `trickle("screen", …)`. The room decides:
 * only staff may share, one screen at a time, and the share ends when it is stopped here, by
 * another member of staff, by the browser's own "Stop sharing", or when the sharer leaves. This
 * module follows the view (`session.screen`, `can`, `cannot`): it never guesses a rule.
 *
 * The console gives it its button, an element for the room's reason and one for a problem, and
 * its words (`share_screen`, `stop_sharing`, `stop_their_screen`, `screen_failed`); it calls
 * `show(view)` with every view. It has no words of its own.
 */

/** @typedef {import("./room-client.js").RoomClient} RoomClient */

/**
 * @typedef {{
 *   button: HTMLButtonElement,
 *   why: HTMLElement,
 *   problem: HTMLElement,
 *   words: Record<string, string>,
 * }} Parts
 */

/** Whether this browser can capture a window or tab at all (not on most phones). */
export function canCapture() {
  return Boolean(globalThis.navigator?.mediaDevices?.getDisplayMedia);
}

export class ScreenShare {
  /**
   * @param {RoomClient} room
   * @param {Parts} parts
   */
  constructor(room, parts) {
    this.room = room;
    this.parts = parts;
    /** @type {RTCPeerConnection | null} */
    this.pc = null;
    /** @type {MediaStream | null} */
    this.stream = null;
    /** @type {"share" | "stop" | ""} what the button does now */
    this.action = "";
    /** whether the last view said the screen being shared is mine */
    this.wasMine = false;
    this.busy = false;
    parts.button.addEventListener("click", () => this._pressed());
    room.on("trickle", (/** @type {any} */ message) => {
      if (message.target === "screen" && this.pc) {
        this.pc.addIceCandidate(message.candidate || undefined).catch(() => {});
      }
    });
    room.on("media_restart", () => {
      if (this.stream) {
        this._connect(this.stream).catch(() => this._ended()); // the room was rebuilt
      }
    });
  }

  /**
   * The button and the room's reason, from a staff view.
   * @param {any} view
   */
  show(view) {
    const { button, why, words } = this.parts;
    const screen = view.session.screen;
    const mine = Boolean(screen && screen.by === view.you);
    if (this.wasMine && !mine && this.stream) {
      this._ended(); // stopped by someone else, or by the room (a reload, a drop)
    }
    this.wasMine = mine;
    let label = "";
    this.action = "";
    if (mine && view.can.includes("media_share_stop")) {
      [label, this.action] = [words.stop_sharing, "stop"];
    } else if (screen && view.can.includes("media_share_stop")) {
      label = (words.stop_their_screen || "").replace("{name}", screen.name);
      this.action = "stop";
    } else if (view.can.includes("media_share") && canCapture()) {
      [label, this.action] = [words.share_screen, "share"];
    }
    button.textContent = label;
    button.hidden = !this.action;
    button.disabled = this.busy;
    // why not, only while someone else's screen is up (without video the page says so already)
    const reason =
      !this.action && screen && view.cannot.media_share ? view.cannot.media_share.message : "";
    why.textContent = reason;
    why.hidden = !reason;
  }

  async _pressed() {
    if (this.busy || !this.action) {
      return;
    }
    this.busy = true;
    this.parts.button.disabled = true;
    this._problem("");
    try {
      if (this.action === "stop") {
        await this.room.stopSharing();
        this._ended();
      } else {
        await this._start();
      }
    } catch (error) {
      const refusal = /** @type {any} */ (error);
      // choosing nothing in the browser's picker is not a problem
      if (refusal?.name !== "NotAllowedError" && refusal?.name !== "AbortError") {
        this._problem(refusal?.kind === "refused" ? refusal.message : this.parts.words.screen_failed);
      }
      this._ended();
    } finally {
      this.busy = false;
      this.parts.button.disabled = false;
    }
  }

  async _start() {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: true });
    this.stream = stream;
    for (const track of stream.getTracks()) {
      // the browser's own "Stop sharing": the room ends the share when the connection closes
      track.addEventListener("ended", () => {
        if (this.stream === stream) {
          this.room.stopSharing().catch(() => {});
          this._ended();
        }
      });
    }
    await this._connect(stream);
  }

  /**
   * A new screen connection for `stream`, offered to the room.
   * @param {MediaStream} stream
   */
  async _connect(stream) {
    this._closeConnection();
    const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
    this.pc = pc;
    /** @type {(RTCIceCandidateInit | null)[]} candidates found before the offer went */
    const early = [];
    let offered = false;
    pc.addEventListener("icecandidate", (event) => {
      const candidate = event.candidate ? event.candidate.toJSON() : null;
      if (offered) {
        this.room.trickle("screen", candidate);
      } else {
        early.push(candidate);
      }
    });
    for (const track of stream.getTracks()) {
      pc.addTrack(track, stream);
    }
    await pc.setLocalDescription(await pc.createOffer());
    const reply = this.room.shareScreen(/** @type {RTCSessionDescription} */ (pc.localDescription));
    offered = true; // the offer is on its way: candidates follow it in order
    for (const candidate of early.splice(0)) {
      this.room.trickle("screen", candidate);
    }
    const answer = await reply;
    if (this.pc === pc) {
      await pc.setRemoteDescription(answer.jsep);
    }
  }

  _closeConnection() {
    if (this.pc) {
      this.pc.close();
      this.pc = null;
    }
  }

  /** The share is over here: the connection closed and the capture stopped. */
  _ended() {
    this._closeConnection();
    const stream = this.stream;
    this.stream = null;
    for (const track of stream ? stream.getTracks() : []) {
      track.stop();
    }
  }

  /** @param {string} text */
  _problem(text) {
    this.parts.problem.textContent = text;
    this.parts.problem.hidden = !text;
  }
}
