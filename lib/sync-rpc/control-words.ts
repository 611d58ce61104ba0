// Where each control word of a blocking channel lives in its Int32Array (see channel.ts), kept
// apart from the channel's code so that start-failure.ts (and worker.ts with it) need not load it.
//
// Each word one side spins on sits alone in its own 128-byte block: the side spinning on a
// sequence word re-reads it all the time, so any other word on its cache line would move
// between the cores with each store the other side makes. Sharing one line, the answer's three
// stores (length, kind, sequence) each pulled the line back from the spinning caller; apart,
// the p50 overhead of a blocking get fell from 7.72 to 7.00 us (means of 9 alternating runs,
// lower in 8 of them; engine on the cluster's thread).
// 128 bytes: distinct 64-byte lines whatever the buffer's alignment, and not adjacent ones.

/** Word indices (const enum: inlined as numbers wherever they are used). */
export const enum Word {
  /** The caller's request sequence number (the worker spins on it). */
  REQ_SEQ = 0,
  /** The worker's answer sequence number (the caller spins on it); 128 bytes on. */
  RESP_SEQ = 32,
  /** Message lengths and the answer's kind: read once per message, after its sequence word. */
  REQ_LEN = 64,
  RESP_LEN = 65,
  RESP_KIND = 66,
  /** Rarely written: the worker's lifecycle state and the two PARKED flags. */
  STATE = 96,
  CALLER_PARKED = 97,
  SERVER_PARKED = 98,
  /** How many words the control buffer holds. */
  COUNT = 128,
}

/** Worker lifecycle, as stored in the STATE word. */
export const enum ChannelState {
  STARTING = 0,
  READY = 1,
  CLOSED = 2,
  CRASHED = 3,
}
