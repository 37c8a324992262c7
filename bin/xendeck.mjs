#!/usr/bin/env node
// xendeck: the command line. TypeScript sources run through tsx's loader, so the
// CLI, the tests and the app share one source tree with no build step for Node code.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../electron/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
