// Electron's entry in a source checkout: TypeScript through tsx's loader, as the CLI does.
// A packaged app runs the bundle build/build-electron.mjs makes instead.
import { register } from 'tsx/esm/api';

register();
await import('./index.main.ts');
