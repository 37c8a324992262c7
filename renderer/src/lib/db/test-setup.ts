// Vitest setup for the renderer: a fresh in-memory IndexedDB (STYLE.md G16).
import 'fake-indexeddb/auto';
