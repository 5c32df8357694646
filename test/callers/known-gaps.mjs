// Scenarios that fail with tsrun today for a reason outside the caller harness, each with the
// reason and where it is refused. Only applied when RUNTIME is tsrun (runc must pass them all).
// Such a scenario still runs: its failure is printed as GAP (and counted as skipped), and when it
// passes the run says so: then delete its line here.
export const KNOWN_GAPS = {
};
