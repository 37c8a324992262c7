// Lint: TypeScript rules everywhere; machines/ stays pure (no Node, DOM, Electron or Dexie),
// and only electron/main and electron/preload may import 'electron' (DESIGN.md section 3).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Bare built-in names are listed as exact paths (a pattern such as 'events' would also match '../events/x.ts').
const nodeBuiltinNames = ['fs', 'path', 'os', 'child_process', 'net', 'crypto', 'zlib', 'stream', 'readline', 'util', 'events', 'worker_threads', 'http', 'https', 'url', 'buffer', 'process', 'timers'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'native/**', 'renderer/dist/**', 'out/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain JavaScript entry points and configs run in Node.
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
  },
  {
    files: ['**/*.ts'],
    // TypeScript itself reports undefined names, with the right globals per tsconfig.
    rules: { 'no-undef': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['machines/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'electron', message: 'machines/ is pure: no Electron.' },
          { name: 'dexie', message: 'machines/ is pure: no Dexie.' },
          ...nodeBuiltinNames.map((name) => ({ name, message: 'machines/ is pure: no Node built-ins.' })),
        ],
        patterns: [
          { group: ['node:*'], message: 'machines/ is pure: no Node built-ins.' },
          { group: ['**/electron/**', '**/renderer/**'], message: 'machines/ imports nothing outside machines/.' },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'window', message: 'machines/ is pure: no DOM.' },
        { name: 'document', message: 'machines/ is pure: no DOM.' },
        { name: 'process', message: 'machines/ is pure: no Node.' },
        { name: 'require', message: 'machines/ is pure: no Node.' },
        { name: 'Buffer', message: 'machines/ is pure: no Node.' },
        { name: 'setTimeout', message: 'machines/ is pure: time comes from the record clock.' },
        { name: 'setInterval', message: 'machines/ is pure: time comes from the record clock.' },
      ],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'machines/ is pure: time comes from records.' },
        { object: 'Math', property: 'random', message: 'machines/ is pure: no randomness.' },
      ],
    },
  },
  {
    files: ['machines/**/*.test.ts', 'machines/**/*.bench.ts'],
    rules: { 'no-restricted-imports': 'off', 'no-restricted-globals': 'off', 'no-restricted-properties': 'off' },
  },
  {
    files: ['electron/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts'],
    ignores: ['electron/main/**', 'electron/preload/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: "Only electron/main and electron/preload import 'electron'." }] }],
    },
  },
);
