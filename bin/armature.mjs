#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx, so the CLI always matches the source.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
