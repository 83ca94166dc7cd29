// The Node entry point: everything of the browser-safe core (which on Node already
// runs on node:crypto through the #crypto import condition), plus Node-only adapters.

export * from './index.js';
