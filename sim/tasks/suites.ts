/** The shipped LIBERO-style suites: see suites/index.ts (loader) and suites/generate.ts (writer). */
export * from './suites/index.ts';
