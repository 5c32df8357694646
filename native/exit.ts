// How tsrun's process ends. process.exit() runs Node's whole exit: 'exit' listeners, the
// platform's teardown (it joins its worker threads) and the atexit handlers, among them
// koffi's, which fsyncs stdout and stderr (a disk write when they are files). A tsrun that
// has called into libc wrote all its output with writeSync and has nothing for Node to finish:
// _exit(2) ends it ~1.2 ms sooner. One that used Node's stdio streams (a terminal relay) must
// let Node restore the terminal, and one run with Node flags (--cpu-prof for bench:phases,
// coverage) lets Node write their files: those go through process.exit.
// Imports nothing, so that every bundle holds it for free; libc.ts offers _exit when it binds libc.

let immediate: ((status: number) => void) | undefined;
let streamsUsed = false;

/** libc.ts, once libc is bound: how to end the process without Node's exit. */
export function offerImmediateExit(exit: (status: number) => void): void {
  immediate = exit;
}

/** Code that touches process.stdin/stdout/stderr (streams Node restores at exit) says so first. */
export function usingStdioStreams(): void {
  streamsUsed = true;
}

export function exitProcess(status: number): never {
  if (immediate !== undefined && !streamsUsed && !nodeWritesAtExit()) immediate(status);
  process.exit(status);
}

/** Node flags or variables that make Node write something at exit: a CPU or heap profile, coverage. */
function nodeWritesAtExit(): boolean {
  return process.execArgv.length > 0 || Boolean(process.env.NODE_OPTIONS) || Boolean(process.env.NODE_V8_COVERAGE);
}
