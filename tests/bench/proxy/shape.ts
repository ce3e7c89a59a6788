/** What the mock upstream streams; the load generator checks every frame against it. */
export const FRAMES = 64;
export const FRAME_MS = 20;
