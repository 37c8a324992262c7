export * from './record.ts';
export * from './canonical.ts';
export * from './hash.ts';
export * from './chain.ts';
export * from './validate.ts';
export * from './bundle.ts';
