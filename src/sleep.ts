// A synchronous pause for the few polling loops of a command-line program
// (cgroup removal, the freezer, waiting for an init to die): tsrun's commands
// are synchronous, and Atomics.wait blocks without spinning.
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
