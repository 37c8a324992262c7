import { AppDb } from './app-db.ts';

export const db = new AppDb();
