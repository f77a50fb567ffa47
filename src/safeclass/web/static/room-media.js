// @ts-check
/**
 * The room's video, with no page in it: the camera, and the two WebRTC connections the protocol
 * describes (docs/protocol.md, "Video"), carried over the room client's socket.
 *
 * The browser never talks to the video server itself: it sends its offer (`media_publish`) and
 * answers every offer the server pushes (`media_subscribe`, `media_offer`, `media_start`), with
 * its ICE candidates trickled through the same socket. What is forwarded (mutes, cameras off,
 * holds, removals) is decided by the server, so this module simply sends everything it has and
 * shows everything it gets. It keeps one `MediaStream` per person (`feed`), built from the
 * offer's `streams`, and reports them as tiles; the page draws them (`video-tiles.js`).
 *
 * It reconnects by itself when the server says so (`media_restart`, a `hangup` notice) and
 * closes everything when the room's socket closes. Like the room client it has no words: it
 * reports codes (`status`, the camera's `problem`) for the page to translate.
 */

/** @typedef {import("./room-client.js").RoomClient} RoomClient */
/** @typedef {import("./room-client.js").Message} Message */

/**
 * @typedef {{
 *   mid: string | null, kind: string, active: boolean,
 *   feed?: string, name?: string, role?: string, participant?: string, source?: string,
 * }} StreamInfo
 * One m-line of a subscription offer, as the server describes it.
 *
 * @typedef {{
 *   feed: string, name: string, role: string, participant: string, source: string,
 *   stream: MediaStream, video: boolean, audio: boolean,
 * }} Tile
 * One person's media as received: `video` and `audio` say which of their streams are live;
 * `source` is "camera", or "screen" for a screen a member of staff shares (shown large).
 *
 * @typedef {"" | "denied" | "missing" | "failed" | "unsupported"} CameraProblem
 * Why the camera and microphone could not be used ("" when they could).
 *
 * @typedef {{stream: MediaStream | null, problem: CameraProblem}} Camera
 *
 * @typedef {{
 *   video?: MediaTrackConstraints,
 *   RTCPeerConnection?: {new (config: RTCConfiguration): RTCPeerConnection},
 *   mediaDevices?: MediaDevices,
 * }} MediaOptions
 * `video`: the camera's constraints (default 320x240 at 15 frames a second: a class of thirty
 * receives many small pictures).
 *
 * @typedef {"off" | "idle" | "connecting" | "on" | "reconnecting"} MediaStatus
 * `off`: this server has no video; `idle`: not in the room; `reconnecting`: the video server
 * is being rebuilt, or a connection dropped and is being made again.
 */

/** The default camera: small and steady, enough for a face. */
export const SMALL_VIDEO = Object.freeze({
  width: { ideal: 320 },
  height: { ideal: 240 },
  frameRate: { ideal: 15, max: 15 },
});

/**
 * Why `getUserMedia` failed, as a code for the page.
 * @param {unknown} error
 * @returns {CameraProblem}
 */
export function cameraProblem(error) {
  const name = error instanceof Error || (error && typeof error === "object") ? String(/** @type {any} */ (error).name) : "";
  if (name === "NotAllowedError" || name === "SecurityError") {
    return "denied";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "NotReadableError") {
    return "missing";
  }
  return "failed";
}

/**
 * Ask for the camera and the microphone; with only one of them, that one. Never throws: a
 * child with no camera can still join, see and hear the class.
 * @param {MediaTrackConstraints} [video]
 * @param {MediaDevices} [devices]
 * @returns {Promise<Camera>}
 */
export async function openCamera(video = SMALL_VIDEO, devices = globalThis.navigator?.mediaDevices) {
  if (!devices || !devices.getUserMedia) {
    return { stream: null, problem: "unsupported" };
  }
  /** @type {CameraProblem} */
  let problem = "failed";
  for (const constraints of [{ audio: true, video }, { audio: true }, { video }]) {
    try {
      return { stream: await devices.getUserMedia(constraints), problem: "" };
    } catch (error) {
      problem = cameraProblem(error);
      if (problem === "denied") {
        break; // refused: asking again for less would only ask the family again
      }
    }
  }
  return { stream: null, problem };
}

/**
 * One WebRTC connection of the two (`publisher` or `subscriber`), with its ICE candidates
 * trickled both ways: ours go to the server once the description that made them has been
 * sent; the server's wait until the remote description is set.
 */
class Link {
  /**
   * @param {RoomClient} room
   * @param {"publisher" | "subscriber"} target
   * @param {{new (config: RTCConfiguration): RTCPeerConnection}} Peer
   */
  constructor(room, target, Peer) {
    this.room = room;
    this.target = target;
    this.pc = new Peer({ bundlePolicy: "max-bundle" });
    /** @type {(RTCIceCandidateInit | null)[] | null} ours, until the description is sent */
    this._ours = [];
    /** @type {(RTCIceCandidateInit | null)[]} the server's, until there is a remote description */
    this._theirs = [];
    this.closed = false;
    this.pc.onicecandidate = (event) => {
      const candidate = event.candidate ? event.candidate.toJSON() : null;
      if (this._ours) {
        this._ours.push(candidate);
      } else if (!this.closed) {
        this.room.trickle(this.target, candidate);
      }
    };
  }

  /** The description that makes our candidates has been sent: send them too, from now on. */
  described() {
    const waiting = this._ours || [];
    this._ours = null;
    for (const candidate of waiting) {
      this.room.trickle(this.target, candidate);
    }
  }

  /** @param {RTCSessionDescriptionInit} jsep */
  async remote(jsep) {
    await this.pc.setRemoteDescription(jsep);
    const waiting = this._theirs;
    this._theirs = [];
    for (const candidate of waiting) {
      await this.add(candidate);
    }
  }

  /** @param {RTCIceCandidateInit | null} candidate */
  async add(candidate) {
    if (this.closed) {
      return;
    }
    if (!this.pc.remoteDescription) {
      this._theirs.push(candidate);
      return;
    }
    try {
      await this.pc.addIceCandidate(candidate || undefined);
    } catch {
      // a candidate for an m-line that has gone: nothing to do
    }
  }

  close() {
    this.closed = true;
    this.pc.onicecandidate = null;
    this.pc.close();
  }
}

/**
 * A participant's video in the room: their camera sent, everyone they may see received.
 *
 * Listen with `on(name, fn)`: `tiles` (a list of `Tile`, whenever who or what is received
 * changes), `status` (a `MediaStatus`), `camera` (a `Camera`, once it has been asked for).
 */
export class RoomMedia {
  /**
   * @param {RoomClient} room
   * @param {MediaOptions} [options]
   */
  constructor(room, options = {}) {
    this.room = room;
    this._video = options.video || SMALL_VIDEO;
    this._Peer = options.RTCPeerConnection || globalThis.RTCPeerConnection;
    this._devices = options.mediaDevices || globalThis.navigator?.mediaDevices;
    /** @type {Camera | null} */
    this.camera = null;
    /** @type {Promise<Camera> | null} */
    this._asking = null;
    /** @type {MediaStatus} */
    this.status = "idle";
    /** True while the page says its person is in the room. */
    this.inRoom = false;
    /** @type {"" | "connecting" | "reconnecting"} what the connections are doing */
    this._phase = "";
    /** Whether the connections have been made once since entering the room. */
    this._connected = false;
    /** @type {Link | null} */
    this._pub = null;
    /** @type {Link | null} */
    this._sub = null;
    /** @type {Map<string, StreamInfo>} the latest offer's streams, by mid */
    this._mids = new Map();
    /** @type {Map<string, MediaStream>} one stream per person, kept while they are received */
    this._feeds = new Map();
    /** @type {Tile[]} */
    this.tiles = [];
    /** @type {Promise<void>} signalling, one step at a time */
    this._chain = Promise.resolve();
    this._generation = 0; // bumped whenever the connections are thrown away
    /** @type {Map<string, Set<(payload: any) => void>>} */
    this._listeners = new Map();
    /** @type {Record<"publisher" | "subscriber", (RTCIceCandidateInit | null)[]>} the server's
     * candidates that came before their connection was made */
    this._early = { publisher: [], subscriber: [] };

    room.on("media_offer", (/** @type {Message} */ offer) => this._queue(() => this._accept(offer)));
    room.on("trickle", (/** @type {Message} */ message) => {
      const publisher = message.target === "publisher";
      const link = publisher ? this._pub : this._sub;
      if (link) {
        link.add(message.candidate);
      } else {
        // an offer still waiting its turn in the queue: its connection takes these when made
        this._early[publisher ? "publisher" : "subscriber"].push(message.candidate);
      }
    });
    room.on("media_restart", () => this._again(["publisher", "subscriber"]));
    room.on("media_notice", (/** @type {Message} */ notice) => {
      if (notice.kind === "hangup") {
        this._again([notice.target === "publisher" ? "publisher" : "subscriber"]);
      }
    });
    room.on("media_state", (/** @type {{state: string}} */ media) => {
      if (media.state === "reconnecting" && this.inRoom) {
        this._phase = "reconnecting"; // until the `media_restart` that follows is done
      }
      this._fromRoom();
    });
    room.on("state", () => this._fromRoom());
    room.on("closed", (/** @type {{reconnecting: boolean}} */ closed) => {
      // the room's socket is gone: so are our connections on the server's side
      this.inRoom = false;
      this._drop();
      if (!closed.reconnecting) {
        this.stopCamera(); // ended, removed: the camera's light goes off
      }
      this._fromRoom();
    });
  }

  /**
   * @param {string} name
   * @param {(payload: any) => void} fn
   */
  on(name, fn) {
    let set = this._listeners.get(name);
    if (!set) {
      set = new Set();
      this._listeners.set(name, set);
    }
    set.add(fn);
  }

  /**
   * @param {string} name
   * @param {any} payload
   */
  _emit(name, payload) {
    for (const fn of this._listeners.get(name) || []) {
      fn(payload);
    }
  }

  /** The status the room's `media` and our connections add up to, reported if it changed. */
  _fromRoom() {
    const media = this.room.media;
    /** @type {MediaStatus} */
    let status = "on";
    if (!this.inRoom) {
      status = "idle";
    } else if (media && media.state === "off") {
      status = "off";
    } else if (media && media.state === "reconnecting") {
      status = "reconnecting";
    } else if (this._phase) {
      status = this._phase;
    }
    if (status !== this.status) {
      this.status = status;
      this._emit("status", status);
    }
  }

  /**
   * Ask for the camera and microphone (once; again after `stopCamera`).
   * @returns {Promise<Camera>}
   */
  openCamera() {
    if (!this._asking) {
      const asking = openCamera(this._video, this._devices).then((camera) => {
        if (this._asking !== asking) {
          // stopped while the browser was asking (the class ended): let it go at once
          for (const track of camera.stream ? camera.stream.getTracks() : []) {
            track.stop();
          }
          return { stream: null, problem: /** @type {CameraProblem} */ ("") };
        }
        this.camera = camera;
        this._emit("camera", camera);
        return camera;
      });
      this._asking = asking;
    }
    return this._asking;
  }

  /** Stop the camera and microphone (the light goes off). */
  stopCamera() {
    if (this.camera && this.camera.stream) {
      for (const track of this.camera.stream.getTracks()) {
        track.stop();
      }
    }
    this.camera = null;
    this._asking = null;
  }

  /**
   * The page's person is in the room (true) or not: connect or close accordingly. Call it on
   * every view; it does something only when the answer changes.
   * @param {boolean} inRoom
   */
  setInRoom(inRoom) {
    if (inRoom === this.inRoom) {
      return;
    }
    this.inRoom = inRoom;
    if (inRoom) {
      this._connected = false;
      this._again(["publisher", "subscriber"]);
    } else {
      this._drop();
    }
    this._fromRoom();
  }

  /** Everything closed, the camera too: the page is done with video. */
  stop() {
    this.inRoom = false;
    this._drop();
    this.stopCamera();
    this._fromRoom();
  }

  /**
   * Run one signalling step after the others; a failure is reported, never thrown.
   * @param {() => Promise<void>} step
   * @returns {Promise<boolean>} whether it was done
   */
  _queue(step) {
    const generation = this._generation;
    const run = this._chain.then(async () => {
      if (generation !== this._generation) {
        return false;
      }
      try {
        await step();
        return true;
      } catch {
        // the server could not connect it (media_unavailable, media_failed): it says
        // `media_restart` when it can again; until then the page says video is reconnecting
        if (generation === this._generation && this.inRoom) {
          this._phase = "reconnecting";
          this._fromRoom();
        }
        return false;
      }
    });
    this._chain = run.then(() => undefined);
    return run;
  }

  /**
   * Make one or both connections afresh.
   * @param {("publisher" | "subscriber")[]} targets
   */
  _again(targets) {
    if (!this.inRoom || (this.room.media && this.room.media.state === "off")) {
      return;
    }
    if (targets.length === 2) {
      this._drop(); // a new generation: steps queued for the old connections are skipped
    }
    this._phase = this._connected ? "reconnecting" : "connecting";
    this._fromRoom();
    const generation = this._generation;
    let ok = true;
    // receive first: what the child waits for is the teacher, not their own picture going out.
    // The camera is asked for by the publishing step, after the class's pictures are answered:
    // a camera starting takes the CPU the answer needs (unless it is open already, from the
    // check before joining)
    for (const target of ["subscriber", "publisher"].filter((t) => targets.includes(/** @type {any} */ (t)))) {
      this._queue(() => (target === "publisher" ? this._publish() : this._subscribe())).then(
        (done) => {
          ok = ok && done;
        },
      );
    }
    this._chain.then(() => {
      if (ok && generation === this._generation && this.inRoom) {
        this._connected = true;
        this._phase = "";
        this._fromRoom();
      }
    });
  }

  /**
   * A new connection, with the server's candidates that came before it.
   * @param {"publisher" | "subscriber"} target
   */
  _link(target) {
    const link = new Link(this.room, target, this._Peer);
    const early = this._early[target];
    this._early[target] = [];
    for (const candidate of early) {
      link.add(candidate); // kept by the link until its remote description is set
    }
    return link;
  }

  /** Close both connections and forget what they received. */
  _drop() {
    this._generation += 1;
    this._phase = "";
    this._early = { publisher: [], subscriber: [] };
    for (const link of [this._pub, this._sub]) {
      if (link) {
        link.close();
      }
    }
    this._pub = this._sub = null;
    this._mids.clear();
    this._showTiles();
  }

  /** Send the camera and microphone (nothing to send: nothing is published). */
  async _publish() {
    if (this._pub) {
      this._pub.close();
      this._pub = null;
    }
    const camera = await this.openCamera();
    if (!camera.stream || !this.inRoom) {
      return;
    }
    const link = this._link("publisher");
    this._pub = link;
    for (const track of camera.stream.getTracks()) {
      link.pc.addTransceiver(track, { direction: "sendonly", streams: [camera.stream] });
    }
    const offer = await link.pc.createOffer();
    await link.pc.setLocalDescription(offer);
    const sent = this.room.publish(/** @type {any} */ (link.pc.localDescription));
    link.described();
    const reply = await sent;
    if (link.closed) {
      return;
    }
    await link.remote(reply.jsep);
  }

  /** Ask to receive; the reply is an offer like any pushed one. */
  async _subscribe() {
    if (this._sub) {
      this._sub.close();
      this._sub = null;
      this._mids.clear();
    }
    const asking = this.room.subscribe();
    // the connection is made while the server prepares the offer, not after it comes
    this._receiver();
    await this._accept(await asking);
  }

  /** The receiving connection: the one there is, or a new one. */
  _receiver() {
    if (!this._sub) {
      this._sub = this._link("subscriber");
      this._sub.pc.ontrack = () => this._showTiles();
    }
    return this._sub;
  }

  /**
   * Answer an offer of what to receive (the reply to `media_subscribe`, or pushed).
   * @param {Message} offer
   */
  async _accept(offer) {
    if (!this.inRoom) {
      return;
    }
    if (!offer.jsep) {
      return; // nothing to receive yet: an offer is pushed when there is
    }
    const link = this._receiver();
    this._mids.clear();
    for (const stream of /** @type {StreamInfo[]} */ (offer.streams || [])) {
      if (stream.mid !== null && stream.mid !== undefined) {
        this._mids.set(String(stream.mid), stream);
      }
    }
    await link.remote(offer.jsep);
    const answer = await link.pc.createAnswer();
    await link.pc.setLocalDescription(answer);
    const sent = this.room.answer(/** @type {any} */ (link.pc.localDescription));
    link.described();
    this._showTiles();
    await sent;
  }

  /** Rebuild each person's stream from the live m-lines, and report the tiles. */
  _showTiles() {
    /** @type {Map<string, Tile>} */
    const tiles = new Map();
    const transceivers = this._sub ? this._sub.pc.getTransceivers() : [];
    for (const transceiver of transceivers) {
      const info = this._mids.get(String(transceiver.mid));
      if (!info || !info.active || !info.feed) {
        continue;
      }
      let tile = tiles.get(info.feed);
      if (!tile) {
        let stream = this._feeds.get(info.feed);
        if (!stream) {
          stream = new MediaStream();
          this._feeds.set(info.feed, stream);
        }
        tile = {
          feed: info.feed,
          name: info.name || "",
          role: info.role || "",
          participant: info.participant || "",
          source: info.source || "camera",
          stream,
          video: false,
          audio: false,
        };
        tiles.set(info.feed, tile);
      }
      const track = transceiver.receiver.track;
      if (track.kind === "video") {
        tile.video = true;
      } else if (track.kind === "audio") {
        tile.audio = true;
      }
    }
    // each stream holds exactly its person's live tracks (the same object, so a picture that
    // is already showing does not flicker)
    for (const [feed, stream] of this._feeds) {
      const tile = tiles.get(feed);
      if (!tile) {
        this._feeds.delete(feed);
        continue;
      }
      const wanted = transceivers
        .filter((t) => {
          const info = this._mids.get(String(t.mid));
          return info && info.active && info.feed === feed;
        })
        .map((t) => t.receiver.track);
      for (const track of stream.getTracks()) {
        if (!wanted.includes(track)) {
          stream.removeTrack(track);
        }
      }
      for (const track of wanted) {
        if (!stream.getTracks().includes(track)) {
          stream.addTrack(track);
        }
      }
    }
    this.tiles = [...tiles.values()];
    this._emit("tiles", this.tiles);
  }
}
