// The room, in the browser: signaling over one WebSocket, one connection to publish, one per
// publisher to receive (the same protocol the agent speaks, see agent/room/signaling.py).
"use strict";

const params = new URLSearchParams(location.search);

function waitForIce(pc) {
  // no trickle: the offer goes out with its candidates (a few ms on one machine; capped)
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, 3000);
  });
}

class Room {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.pending = new Map();
    this.nextId = 1;
    this.subscriptions = new Map();
    this.me = null;
  }

  join(extra = {}) {
    const query = new URLSearchParams({ token: params.get("token") || "", ...extra });
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const room = params.get("room") || "live";
    this.ws = new WebSocket(`${scheme}://${location.host}/ws/room/${encodeURIComponent(room)}?${query}`);
    return new Promise((resolve, reject) => {
      this.ws.onmessage = (m) => {
        const event = JSON.parse(m.data);
        if (event.id && this.pending.has(event.id)) {
          const { ok, fail } = this.pending.get(event.id);
          this.pending.delete(event.id);
          event.type === "error" ? fail(new Error(event.error)) : ok(event);
        } else if (event.type === "welcome") {
          this.me = event;
          resolve(event);
        } else if (event.type === "error" && !this.me) {
          reject(new Error(event.error));
        } else {
          this.onEvent(event);
        }
      };
      this.ws.onclose = () => { if (!this.me) reject(new Error("the room refused the connection")); this.onEvent({ type: "closed" }); };
    });
  }

  request(message) {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ ...message, id }));
    return new Promise((ok, fail) => this.pending.set(id, { ok, fail }));
  }

  send(message) { this.ws.send(JSON.stringify(message)); }

  config() { return { iceServers: (this.me && this.me.ice_servers) || [] }; }

  async publish(stream) {
    if (this.publisher) this.publisher.close();
    const pc = new RTCPeerConnection(this.config());
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    this.publisher = pc;
    await pc.setLocalDescription(await pc.createOffer());
    await waitForIce(pc);
    const reply = await this.request({ type: "publish", sdp: pc.localDescription.sdp });
    await pc.setRemoteDescription({ type: "answer", sdp: reply.sdp });
    return pc;
  }

  async subscribe(participant, onMessage) {
    const old = this.subscriptions.get(participant.id);
    if (old) old.pc.close();
    const pc = new RTCPeerConnection(this.config());
    const stream = new MediaStream();
    const sub = { pc, stream, participant };
    this.subscriptions.set(participant.id, sub);
    for (const kind of participant.publishes) pc.addTransceiver(kind, { direction: "recvonly" });
    pc.ontrack = (e) => {
      // a live answer is worth more than a smooth one: ask Chromium for its smallest jitter buffer
      if ("jitterBufferTarget" in e.receiver) e.receiver.jitterBufferTarget = 0;
      stream.addTrack(e.track);
    };
    const channel = pc.createDataChannel("captions");
    channel.onmessage = (m) => onMessage && onMessage(JSON.parse(m.data), participant);
    await pc.setLocalDescription(await pc.createOffer());
    await waitForIce(pc);
    const reply = await this.request({ type: "subscribe", to: participant.id, sdp: pc.localDescription.sdp });
    await pc.setRemoteDescription({ type: "answer", sdp: reply.sdp });
    return sub;
  }

  unsubscribe(id) {
    const sub = this.subscriptions.get(id);
    if (sub) { sub.pc.close(); this.subscriptions.delete(id); }
  }
}

// The loudness of a stream, watched every 10 ms: when sound starts and when it last was heard.
// Remote audio reaches WebAudio only while it also plays in an element (Chromium), hence `element`.
function watchLevel(stream, element, threshold = 0.01) {
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  ctx.createMediaStreamSource(stream).connect(analyser);
  if (element) { element.srcObject = stream; element.play().catch(() => {}); }
  const buf = new Float32Array(analyser.fftSize);
  // spans: [start, end] of each stretch of sound (gaps under 300 ms merged), in performance.now() ms
  const level = { peak: 0, firstLoud: null, lastLoud: null, spans: [] };
  setInterval(() => {
    if (ctx.state === "suspended") ctx.resume();
    analyser.getFloatTimeDomainData(buf);
    let peak = 0;
    for (const v of buf) peak = Math.max(peak, Math.abs(v));
    level.peak = Math.max(level.peak, peak);
    const now = performance.now();
    if (peak > threshold) {
      if (level.firstLoud === null) level.firstLoud = now;
      if (level.lastLoud === null || now - level.lastLoud > 300) level.spans.push([now, now]);
      level.spans[level.spans.length - 1][1] = now;
      level.lastLoud = now;
    }
  }, 10);
  return level;
}

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  Object.assign(node, attrs);
  if (text) node.textContent = text;
  return node;
}
