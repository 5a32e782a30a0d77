/** Defaults and constants shared by both sides of the runtime. */

/** The run id a worker registers with when it does not know the run yet: it joins the coordinator's run. */
export const ANY_RUN = '*';

/** Default heartbeat interval, ms. */
export const DEFAULT_HEARTBEAT_MS = 1000;

/** Default silence after which a peer counts as lost, ms: tolerates a synchronous step of several seconds. */
export const DEFAULT_TIMEOUT_MS = 10_000;
